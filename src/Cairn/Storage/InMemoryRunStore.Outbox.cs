namespace Cairn.Storage;

public sealed partial class InMemoryRunStore
{
    private readonly List<OutboxRow> _outbox = [];

    /// <inheritdoc />
    public Task<IReadOnlyList<OutboxMessage>> ClaimOutboxAsync(string owner, int maxMessages, TimeSpan claimDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        lock (_lock)
        {
            var now = _timeProvider.GetUtcNow();
            var claimed = new List<OutboxMessage>();
            var firstOfRun = _outbox
                .Where(r => r.Message.Status == OutboxStatus.Pending)
                .GroupBy(r => r.Message.RunId)
                .Select(g => g.MinBy(r => (r.Message.CheckpointSequence, r.Message.Index))!)
                .Where(r => r.Message.DueAt <= now && (r.ClaimedUntil is null || r.ClaimedUntil <= now))
                .OrderBy(r => r.Message.CreatedAt).ThenBy(r => r.Order)
                .Take(maxMessages);
            foreach (var row in firstOfRun)
            {
                row.Owner = owner;
                row.ClaimedUntil = now + claimDuration;
                row.Message = row.Message with { Attempts = row.Message.Attempts + 1 };
                claimed.Add(row.Message);
            }

            return Task.FromResult<IReadOnlyList<OutboxMessage>>(claimed);
        }
    }

    /// <inheritdoc />
    public Task<int> MarkOutboxDeliveredAsync(IReadOnlyList<Guid> ids, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        lock (_lock)
        {
            var delivered = ids.ToHashSet();
            return Task.FromResult(_outbox.RemoveAll(r => delivered.Contains(r.Message.Id) && r.Owner == owner && r.ClaimedUntil is not null));
        }
    }

    /// <inheritdoc />
    public Task<bool> MarkOutboxFailedAsync(Guid id, string owner, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        lock (_lock)
        {
            if (_outbox.Find(r => r.Message.Id == id && r.Owner == owner && r.ClaimedUntil is not null) is not { } row)
            {
                return Task.FromResult(false);
            }

            row.ClaimedUntil = null;
            row.Message = row.Message with
            {
                Status = retryAt is null ? OutboxStatus.DeadLettered : OutboxStatus.Pending,
                DueAt = retryAt,
                LastError = error,
            };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<OutboxMessage>> ListOutboxAsync(OutboxQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_lock)
        {
            IReadOnlyList<OutboxMessage> messages =
            [
                .. _outbox
                    .Where(r => query.Status is null || r.Message.Status == query.Status)
                    .Where(r => query.RunId is null || r.Message.RunId == query.RunId)
                    .OrderBy(r => r.Message.CreatedAt).ThenBy(r => r.Order)
                    .Take(query.Limit)
                    .Select(r => r.Message),
            ];
            return Task.FromResult(messages);
        }
    }

    /// <inheritdoc />
    public Task<int> RedriveOutboxAsync(IReadOnlyList<Guid>? ids, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = _timeProvider.GetUtcNow();
            var count = 0;
            foreach (var row in _outbox.Where(r => r.Message.Status == OutboxStatus.DeadLettered && (ids is null || ids.Contains(r.Message.Id))))
            {
                row.Message = row.Message with { Status = OutboxStatus.Pending, DueAt = now, Attempts = 0, LastError = null };
                count++;
            }

            return Task.FromResult(count);
        }
    }

    /// <summary>Adds committed messages to the outbox; called under the lock, inside the write that commits them.</summary>
    private void AddToOutbox(IReadOnlyList<OutboxMessage> messages, DateTimeOffset now)
    {
        foreach (var message in messages)
        {
            _outbox.Add(new OutboxRow(_outbox.Count == 0 ? 0 : _outbox[^1].Order + 1)
            {
                Message = message with { Payload = message.Payload.ToArray(), Status = OutboxStatus.Pending, Attempts = 0, CreatedAt = now, DueAt = now, LastError = null },
            });
        }
    }

    private sealed class OutboxRow(long order)
    {
        public long Order { get; } = order;

        public required OutboxMessage Message { get; set; }

        public string? Owner { get; set; }

        public DateTimeOffset? ClaimedUntil { get; set; }
    }
}
