namespace Cairn.Flows;

/// <summary>A flow definition is invalid.</summary>
public sealed class FlowDefinitionException : CairnException
{
    internal FlowDefinitionException(string flowName, int version, IReadOnlyList<string> problems)
        : base($"Flow '{flowName}' v{version} is invalid: {string.Join("; ", problems)}.")
    {
        Problems = problems;
    }

    /// <summary>Every problem found, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
