using Microsoft.Extensions.Options;

namespace Cairn.Hosting;

/// <summary>
/// Validates <see cref="CairnOptions"/> bound from configuration with the builder's own rules, naming each bad value by its
/// configuration key (<c>Cairn:MaxConcurrentRuns is 0; ...</c>).
/// </summary>
internal sealed class CairnOptionsValidator(string sectionPath) : IValidateOptions<CairnOptions>
{
    public ValidateOptionsResult Validate(string? name, CairnOptions options)
    {
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var prefix = sectionPath.Length == 0 ? string.Empty : sectionPath + ":";
        var problems = options.FindProblems(prefix, ':').Select(p => $"Invalid Cairn configuration: {p}.").ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
