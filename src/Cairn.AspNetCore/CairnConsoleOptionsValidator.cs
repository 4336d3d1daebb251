using Microsoft.Extensions.Options;

namespace Cairn.AspNetCore;

/// <summary>Refuses bad console options when the host starts, naming each bad value.</summary>
internal sealed class CairnConsoleOptionsValidator : IValidateOptions<CairnConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, CairnConsoleOptions options)
    {
        var problems = options.FindProblems().Select(p => $"Invalid Cairn console options: {p}.").ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
