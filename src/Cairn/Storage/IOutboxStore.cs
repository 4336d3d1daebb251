namespace Cairn.Storage;

/// <summary>
/// The outbox of a store: the messages that checkpoints and completions committed (<see cref="Checkpoint.Outbox"/>), as
/// the engine's dispatcher delivers them and as operators see and re-drive them. Every store implements it.
/// </summary>
/// <remarks>
/// Order per run: a message is claimed only when every message of its run committed before it
/// (<see cref="OutboxMessage.CheckpointSequence"/>, then <see cref="OutboxMessage.Index"/>) was delivered or
/// dead-lettered. A claim holds a message for one dispatcher until it expires, so several nodes never deliver one
/// message at the same time; a dispatcher that dies loses its claims when they expire, and the message is delivered
/// again with the same ID. Times come from the store's clock.
/// </remarks>
public interface IOutboxStore
{
    /// <summary>
    /// Claims up to <paramref name="maxMessages"/> pending messages that are due and not claimed by anyone (or whose claim
    /// expired), the first undelivered one of each run at most, oldest first: each is claimed by <paramref name="owner"/>
    /// until <paramref name="claimDuration"/> from now and its <see cref="OutboxMessage.Attempts"/> increases by one.
    /// </summary>
    Task<IReadOnlyList<OutboxMessage>> ClaimOutboxAsync(string owner, int maxMessages, TimeSpan claimDuration, CancellationToken cancellationToken);

    /// <summary>Deletes delivered messages that <paramref name="owner"/> still claims; returns how many. A message whose claim moved on is left alone.</summary>
    Task<int> MarkOutboxDeliveredAsync(IReadOnlyList<Guid> ids, string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Records a failed delivery of a message <paramref name="owner"/> claims: its claim is released and its error kept;
    /// it is pending again, due at <paramref name="retryAt"/>, or dead-lettered when <paramref name="retryAt"/> is null.
    /// Returns whether the message was still claimed by <paramref name="owner"/>.
    /// </summary>
    Task<bool> MarkOutboxFailedAsync(Guid id, string owner, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken);

    /// <summary>Lists pending and dead-lettered messages, oldest first.</summary>
    Task<IReadOnlyList<OutboxMessage>> ListOutboxAsync(OutboxQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Makes dead-lettered messages pending again, due now, with no attempts and no error: the messages named, or every
    /// dead-lettered message when <paramref name="ids"/> is null. Returns how many.
    /// </summary>
    Task<int> RedriveOutboxAsync(IReadOnlyList<Guid>? ids, CancellationToken cancellationToken);
}
