namespace Cairn.Storage;

/// <summary>What a recovery point saves: the position in the flow, the serialized state, a status message and a checksum.</summary>
/// <param name="Sequence">1 for a run's first checkpoint, one more for each after it.</param>
/// <param name="Position">The recovery point's position (stores keep it as <see cref="FlowPath.ToString"/>'s text).</param>
/// <param name="RecoveryPoint">The recovery point's name.</param>
/// <param name="StatusMessage">The status message, if any.</param>
/// <param name="State">The serialized state.</param>
/// <param name="Checksum">The checksum of <paramref name="State"/>.</param>
public sealed record Checkpoint(
    long Sequence,
    FlowPath Position,
    string RecoveryPoint,
    string? StatusMessage,
    ReadOnlyMemory<byte> State,
    string Checksum)
{
    /// <summary>When the checkpoint was committed (set by the store when read back).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// The ID of the signal (<see cref="ISignalStore"/>) the run took at this checkpoint: the store marks it taken by this
    /// checkpoint in the same transaction, so that an attempt that dies before this checkpoint takes it again and none
    /// after it ever does. Null for most checkpoints; not returned when read back.
    /// </summary>
    public string? TakesSignal { get; init; }

    /// <summary>
    /// The outbox messages committed with this checkpoint, in order; the store adds them to its outbox
    /// (<see cref="IOutboxStore"/>) in the checkpoint's transaction. Empty when read back.
    /// </summary>
    public IReadOnlyList<OutboxMessage> Outbox { get; init; } = [];

    /// <summary>
    /// What the engine records of the run's compensations (the completed stages to undo, and whether it is undoing them),
    /// as opaque text the store keeps and returns with the checkpoint; null when the run has nothing to undo.
    /// </summary>
    public string? Compensation { get; init; }

    /// <summary>
    /// The run's named streams as of this checkpoint (<c>StageContext.Streams</c>): name → stored content. Empty when
    /// the run has none. Stores keep it with the checkpoint (<see cref="StreamManifest"/>) and copy it with it.
    /// </summary>
    public IReadOnlyDictionary<string, StoredStream> Streams { get; init; } = StreamManifest.Empty;
}
