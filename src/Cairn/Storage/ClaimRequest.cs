namespace Cairn.Storage;

/// <summary>What an engine asks for when it claims due runs.</summary>
/// <param name="Owner">The claiming node's name.</param>
/// <param name="FlowNames">Only runs of these flows: the ones the node can execute.</param>
/// <param name="MaxRuns">The most runs to claim.</param>
/// <param name="LeaseDuration">How long the claim holds unless renewed.</param>
public sealed record ClaimRequest(string Owner, IReadOnlyCollection<string> FlowNames, int MaxRuns, TimeSpan LeaseDuration)
{
    /// <summary>
    /// Whether interrupted runs (<see cref="RunStatus.Interrupted"/>) are claimed too. False while recovery is switched off
    /// (<see cref="CairnOptions.RecoverInterruptedRuns"/>): they stay as they are, their checkpoints kept, until an engine
    /// with recovery on claims them. Default true.
    /// </summary>
    public bool ResumeInterrupted { get; init; } = true;
}
