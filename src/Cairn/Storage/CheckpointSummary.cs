namespace Cairn.Storage;

/// <summary>A kept checkpoint of a run without its state: what an operator can re-run the run from.</summary>
/// <param name="Sequence">The checkpoint's sequence number within the run.</param>
/// <param name="Position">The recovery point's position.</param>
/// <param name="RecoveryPoint">The recovery point's name.</param>
/// <param name="StatusMessage">The status message, if any.</param>
/// <param name="Checksum">The checksum of the checkpoint's state.</param>
/// <param name="CreatedAt">When the checkpoint was committed (the store's clock).</param>
/// <param name="StateSize">The size of the serialized state, in bytes.</param>
public sealed record CheckpointSummary(
    long Sequence,
    FlowPath Position,
    string RecoveryPoint,
    string? StatusMessage,
    string Checksum,
    DateTimeOffset CreatedAt,
    int StateSize)
{
    /// <summary>
    /// Whether the checkpoint is inside a parallel step or an inline sub-flow: its state then holds the states of every
    /// branch together (an envelope), not the flow's state alone, so it cannot be replaced by an edited state.
    /// </summary>
    public bool HoldsBranchStates => Position.HoldsBranchStates;
}
