namespace Cairn.Runs;

public sealed partial class RunOperator
{
    /// <summary>Lists the outbox's pending and dead-lettered messages, oldest first.</summary>
    /// <exception cref="InvalidOperationException">The store has no outbox.</exception>
    public Task<IReadOnlyList<OutboxMessage>> ListOutboxAsync(OutboxQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > 10_000)
        {
            throw new ArgumentException($"The limit of a page of outbox messages must be between 1 and 10,000, not {query.Limit}.", nameof(query));
        }

        return Outbox.ListOutboxAsync(query, cancellationToken);
    }

    /// <summary>
    /// Sends dead-lettered messages again: the messages named, or every dead-lettered message when <paramref name="ids"/>
    /// is null. They are delivered with their own IDs. Returns how many.
    /// </summary>
    /// <exception cref="InvalidOperationException">The store has no outbox.</exception>
    public async Task<int> RedriveOutboxAsync(IReadOnlyList<Guid>? ids = null, CancellationToken cancellationToken = default)
    {
        var count = await Outbox.RedriveOutboxAsync(ids, cancellationToken).ConfigureAwait(false);
        _host?.OutboxChanged();
        return count;
    }

    private IOutboxStore Outbox =>
        _store as IOutboxStore ?? throw new InvalidOperationException($"The store {_store.GetType().Name} has no outbox (it does not implement IOutboxStore).");
}
