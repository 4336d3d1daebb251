namespace Cairn.Execution;

/// <summary>
/// What a save commits beside the state: the outbox messages the stages of its sequence added since its last save, and
/// the open transaction of the transactional stage just before the recovery point, which the checkpoint commits with.
/// </summary>
/// <param name="Outbox">The messages, in the order they were added.</param>
/// <param name="Transaction">The stage's transaction; null to save through the store's own write path.</param>
/// <param name="TakesSignal">The ID of the signal the checkpoint takes (<see cref="Checkpoint.TakesSignal"/>); null for none.</param>
internal readonly record struct SaveExtras(IReadOnlyList<StageOutbox.PendingMessage> Outbox, StageTransaction? Transaction = null, string? TakesSignal = null);
