namespace Cairn.Runs;

/// <summary>
/// How an operator re-runs a run from one of its kept checkpoints (<see cref="CairnEngine.RerunAsync(RunId, RerunOptions, CancellationToken)"/>):
/// which one, and optionally with an edited state. With neither <see cref="RecoveryPoint"/> nor
/// <see cref="CheckpointSequence"/>, the run's latest checkpoint is chosen.
/// </summary>
public sealed record RerunOptions
{
    /// <summary>
    /// The recovery point to go back to: the newest kept checkpoint saved there. Default null. Cannot be combined with
    /// <see cref="CheckpointSequence"/>.
    /// </summary>
    public string? RecoveryPoint { get; init; }

    /// <summary>
    /// The sequence number of the kept checkpoint to go back to, as <see cref="RunOperator.GetCheckpointsAsync"/>
    /// lists them. Default null. Cannot be combined with <see cref="RecoveryPoint"/>.
    /// </summary>
    public long? CheckpointSequence { get; init; }

    /// <summary>
    /// An edited state to resume with, serialized as the engine's <see cref="CairnOptions.Serializer"/> writes it (JSON by
    /// default), instead of the checkpoint's. Default null: the checkpoint's state. An array rather than a
    /// <see cref="ReadOnlyMemory{T}"/>, whose conversion from a null array would give an empty state instead of none.
    /// </summary>
    public byte[]? State { get; init; }

    /// <summary>Who asked and why: the start of the run event's message. Default <c>re-run requested</c>.</summary>
    public string Message { get; init; } = "re-run requested";
}
