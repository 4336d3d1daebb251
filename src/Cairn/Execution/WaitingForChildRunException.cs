namespace Cairn.Execution;

/// <summary>The child run of a detached sub-flow has not finished: the parent's attempt ends and the parent waits.</summary>
internal sealed class WaitingForChildRunException(RunId child, string flow, string step)
    : Exception($"waiting for child run {child} ({flow}) at detached sub-flow '{step}'")
{
    public RunId Child { get; } = child;
}
