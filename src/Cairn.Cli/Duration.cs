namespace Cairn.Cli;

/// <summary>Parses durations written as 7d, 12h, 30m or 45s, up to <see cref="MaxDays"/> days.</summary>
internal static class Duration
{
    /// <summary>The longest duration taken: a hundred years, far inside what dates and timers can hold.</summary>
    public const int MaxDays = 36_500;

    /// <param name="text">The duration as typed.</param>
    /// <param name="option">The option it was given to, for the error message.</param>
    public static TimeSpan Parse(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length >= 2
            && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && value >= 0 && double.IsFinite(value))
        {
            double? days = text[^1] switch
            {
                'd' => value,
                'h' => value / 24,
                'm' => value / (24 * 60),
                's' => value / (24 * 60 * 60),
                _ => null,
            };
            if (days > MaxDays)
            {
                throw new FormatException($"{option} '{text}' is too long: at most {MaxDays}d.");
            }

            if (days is { } inDays)
            {
                return TimeSpan.FromDays(inDays);
            }
        }

        throw new FormatException($"{option} '{text}' is not a duration: write a number followed by d, h, m or s (for example 7d).");
    }
}
