namespace Cairn.Outbox;

/// <summary>
/// Delivers outbox messages to where they go (a broker, a webhook, another service), registered for a destination with
/// <see cref="CairnEngineBuilder.AddOutboxPublisher(string, IOutboxPublisher)"/>. Called after the message's commit,
/// at least once: a message may arrive again after a crash, a lost claim or a failed acknowledgement, always with the
/// same <see cref="OutboxMessage.Id"/> — pass it on so that receivers can drop duplicates. Messages of one run arrive in
/// the order the run added them. Throw to have the message retried with backoff (<see cref="CairnOptions.OutboxRetryPolicy"/>)
/// and dead-lettered once its attempts are used up.
/// </summary>
public interface IOutboxPublisher
{
    /// <summary>Delivers one message; returns once the destination has accepted it.</summary>
    Task PublishAsync(OutboxMessage message, CancellationToken cancellationToken);
}

/// <summary>A publisher made of a delegate.</summary>
internal sealed class DelegateOutboxPublisher(Func<OutboxMessage, CancellationToken, Task> publish) : IOutboxPublisher
{
    public Task PublishAsync(OutboxMessage message, CancellationToken cancellationToken) => publish(message, cancellationToken);
}
