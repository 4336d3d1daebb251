namespace Cairn.Cli;

/// <summary>Options several commands take, each checked when the command line is parsed, with a one-line error.</summary>
internal static class CliOptions
{
    /// <summary>What every list command takes: <c>--store</c>, <c>--status</c> (of <typeparamref name="TStatus"/>) and <c>--limit</c> (default 50).</summary>
    /// <param name="what">What one status is, for the error message ("a status").</param>
    /// <param name="statusDescription">The help text of <c>--status</c>.</param>
    /// <param name="limitDescription">The help text of <c>--limit</c>.</param>
    public static (Option<string> Store, Option<TStatus[]> Status, Option<int> Limit) Listing<TStatus>(string what, string statusDescription, string limitDescription)
        where TStatus : struct, Enum =>
        (StoreOption.Create(), Values<TStatus>("--status", what, statusDescription), Limit(limitDescription, 50));

    /// <summary><c>--limit</c>: how many rows at most, 1 or more.</summary>
    public static Option<int> Limit(string description, int defaultValue)
    {
        var limit = new Option<int>("--limit") { Description = description, DefaultValueFactory = _ => defaultValue };
        limit.Validators.Add(result =>
        {
            // A value that is no number is refused by the parser already; only a number is checked here.
            if (result.Tokens is [var token] && int.TryParse(token.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value < 1)
            {
                result.AddError($"--limit must be 1 or more; it is {value}.");
            }
        });
        return limit;
    }

    /// <summary>An option that takes one or more names of <typeparamref name="T"/>'s values, any case; anything else is refused with the names.</summary>
    /// <param name="name">The option's name.</param>
    /// <param name="what">What one value is, for the error message ("a status").</param>
    /// <param name="description">The option's help text.</param>
    public static Option<T[]> Values<T>(string name, string what, string description)
        where T : struct, Enum => new(name)
    {
        Description = $"{description} ({string.Join(", ", Enum.GetNames<T>())})",
        AllowMultipleArgumentsPerToken = true,
        CustomParser = result =>
        {
            var values = new List<T>();
            foreach (var token in result.Tokens)
            {
                if (!Enum.TryParse<T>(token.Value, ignoreCase: true, out var value) || !Enum.IsDefined(value) || char.IsAsciiDigit(token.Value[0]))
                {
                    result.AddError($"{name} '{token.Value}' is not {what}: use {string.Join(", ", Enum.GetNames<T>())}.");
                    return [];
                }

                values.Add(value);
            }

            return [.. values];
        },
    };
}
