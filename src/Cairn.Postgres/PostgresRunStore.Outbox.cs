using Npgsql;
using NpgsqlTypes;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>FOR UPDATE SKIP LOCKED</c>: dispatchers on several nodes claiming at the same time pass over each other's
    /// messages, and a message claimed meanwhile is rechecked and left alone, so a message is never claimed twice at once.
    /// </remarks>
    public Task<IReadOnlyList<OutboxMessage>> ClaimOutboxAsync(string owner, int maxMessages, TimeSpan claimDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        return WriteAsync<IReadOnlyList<OutboxMessage>>(
            _sql.Outbox.Claim,
            parameters =>
            {
                Add(parameters, "owner", owner);
                Add(parameters, "max_messages", maxMessages);
                Add(parameters, "claim_us", Microseconds(claimDuration));
            },
            async reader =>
            {
                var claimed = new List<OutboxMessage>();
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    claimed.Add(ReadOutboxMessage(reader));
                }

                return claimed;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> MarkOutboxDeliveredAsync(IReadOnlyList<Guid> ids, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return Task.FromResult(0);
        }

        return WriteAsync(
            _sql.Outbox.MarkDelivered,
            parameters =>
            {
                Add(parameters, "ids", ids.ToArray());
                Add(parameters, "owner", owner);
            },
            ReadCountAsync,
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> MarkOutboxFailedAsync(Guid id, string owner, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        var count = await WriteAsync(
            _sql.Outbox.MarkFailed,
            parameters =>
            {
                Add(parameters, "id", id);
                Add(parameters, "owner", owner);
                Add(parameters, "error", error);
                AddTime(parameters, "retry_at", retryAt);
            },
            ReadCountAsync,
            cancellationToken).ConfigureAwait(false);
        return count > 0;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<OutboxMessage>> ListOutboxAsync(OutboxQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return ReadListAsync(
            _sql.Outbox.List,
            parameters =>
            {
                parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Integer) { Value = query.Status is { } status ? (object)(int)status : DBNull.Value });
                AddRun(parameters, "run_id", query.RunId);
                Add(parameters, "limit", Math.Max(query.Limit, 0));
            },
            ReadOutboxMessage,
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> RedriveOutboxAsync(IReadOnlyList<Guid>? ids, CancellationToken cancellationToken) =>
        WriteAsync(
            _sql.Outbox.Redrive,
            parameters => parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid)
            {
                Value = ids is null ? DBNull.Value : (object)ids.ToArray(),
            }),
            ReadCountAsync,
            cancellationToken);

    // The columns of PostgresSql's outbox column list, in order.
    private static OutboxMessage ReadOutboxMessage(NpgsqlDataReader reader) =>
        new(reader.GetGuid(0), new RunId(reader.GetGuid(1)), reader.GetInt64(2), reader.GetInt32(3), reader.GetString(4), reader.GetFieldValue<byte[]>(5))
        {
            Status = (OutboxStatus)reader.GetInt32(6),
            Attempts = reader.GetInt32(7),
            CreatedAt = Time(reader, 8),
            DueAt = NullableTime(reader, 9),
            LastError = NullableString(reader, 10),
        };
}
