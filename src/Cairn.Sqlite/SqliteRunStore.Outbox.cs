using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    private const string OutboxColumns =
        "message_id, run_id, checkpoint_sequence, idx, destination, payload, status, attempts, created_at, due_at, last_error";

    /// <inheritdoc />
    public Task<IReadOnlyList<OutboxMessage>> ClaimOutboxAsync(string owner, int maxMessages, TimeSpan claimDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        return WriteAsync<IReadOnlyList<OutboxMessage>>((connection, transaction, now) =>
        {
            // Pending messages oldest first (the partial index outbox_claim_order), each only if no pending message of its
            // run comes before it (outbox_run_order): the first undelivered message of each run, due and not claimed.
            var claim = Cached(transaction,
                "UPDATE outbox SET owner = $owner, claimed_until = $claimed_until, attempts = attempts + 1 WHERE rowid IN (" +
                "SELECT o.rowid FROM outbox o INDEXED BY outbox_claim_order WHERE o.status = 0 " +
                "AND o.due_at <= $now AND (o.claimed_until IS NULL OR o.claimed_until <= $now) " +
                "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.run_id = o.run_id AND p.status = 0 " +
                "AND (p.checkpoint_sequence < o.checkpoint_sequence OR (p.checkpoint_sequence = o.checkpoint_sequence AND p.idx < o.idx))) " +
                $"ORDER BY o.created_at, o.rowid LIMIT $max) RETURNING rowid, {OutboxColumns}");
            Bind(claim, "$owner", owner);
            Bind(claim, "$claimed_until", Ticks(now + claimDuration));
            Bind(claim, "$now", Ticks(now));
            Bind(claim, "$max", maxMessages);

            // RETURNING gives the rows in no promised order: put them back in claim order.
            var claimed = new List<(long RowId, OutboxMessage Message)>();
            using (var reader = claim.ExecuteReader())
            {
                while (reader.Read())
                {
                    claimed.Add((reader.GetInt64(0), ReadOutboxMessage(reader, 1)));
                }
            }

            return [.. claimed.OrderBy(c => c.Message.CreatedAt).ThenBy(c => c.RowId).Select(c => c.Message)];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> MarkOutboxDeliveredAsync(IReadOnlyList<Guid> ids, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return Task.FromResult(0);
        }

        return WriteAsync((connection, transaction, _) =>
        {
            var delete = Cached(transaction, "DELETE FROM outbox WHERE message_id = $message_id AND owner = $owner AND claimed_until IS NOT NULL");
            Bind(delete, "$owner", owner);
            return ExecuteForEachMessage(delete, ids);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> MarkOutboxFailedAsync(Guid id, string owner, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        return WriteAsync((connection, transaction, _) =>
        {
            var update = Cached(transaction,
                "UPDATE outbox SET claimed_until = NULL, status = $status, due_at = $due_at, last_error = $error " +
                "WHERE message_id = $message_id AND owner = $owner AND claimed_until IS NOT NULL");
            Bind(update, "$status", (int)(retryAt is null ? OutboxStatus.DeadLettered : OutboxStatus.Pending));
            Bind(update, "$due_at", retryAt?.UtcTicks);
            Bind(update, "$error", error);
            Bind(update, "$message_id", MessageKey(id));
            Bind(update, "$owner", owner);
            return update.ExecuteNonQuery() == 1;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<OutboxMessage>> ListOutboxAsync(OutboxQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit <= 0)
        {
            return Task.FromResult<IReadOnlyList<OutboxMessage>>([]);
        }

        return ReadAsync<IReadOnlyList<OutboxMessage>>(connection =>
        {
            using var command = connection.CreateCommand();
            var sql = new System.Text.StringBuilder($"SELECT {OutboxColumns} FROM outbox WHERE 1 = 1");
            if (query.Status is { } status)
            {
                sql.Append(" AND status = ").Append(((int)status).ToString(CultureInfo.InvariantCulture));
            }

            if (query.RunId is { } runId)
            {
                sql.Append(" AND run_id = $run_id");
                Bind(command, "$run_id", Key(runId));
            }

            sql.Append(" ORDER BY created_at, rowid LIMIT $limit");
            Bind(command, "$limit", query.Limit);
            command.CommandText = sql.ToString();
            using var reader = command.ExecuteReader();
            var messages = new List<OutboxMessage>();
            while (reader.Read())
            {
                messages.Add(ReadOutboxMessage(reader, 0));
            }

            return messages;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> RedriveOutboxAsync(IReadOnlyList<Guid>? ids, CancellationToken cancellationToken)
    {
        if (ids is { Count: 0 })
        {
            return Task.FromResult(0);
        }

        return WriteAsync((connection, transaction, now) =>
        {
            const string Redrive = "UPDATE outbox SET status = 0, due_at = $now, attempts = 0, last_error = NULL WHERE status = 1";
            if (ids is null)
            {
                var all = Cached(transaction, Redrive);
                Bind(all, "$now", Ticks(now));
                return all.ExecuteNonQuery();
            }

            var one = Cached(transaction, Redrive + " AND message_id = $message_id");
            Bind(one, "$now", Ticks(now));
            return ExecuteForEachMessage(one, ids);
        }, cancellationToken);
    }

    // Runs the command once for each distinct message ID, bound as $message_id, and counts the rows it changed.
    private static int ExecuteForEachMessage(SqliteCommand command, IReadOnlyList<Guid> ids)
    {
        var id = Bind(command, "$message_id", "");
        var count = 0;
        foreach (var messageId in ids.Distinct())
        {
            id.Value = MessageKey(messageId);
            count += command.ExecuteNonQuery();
        }

        return count;
    }

    /// <summary>
    /// Adds committed messages to the outbox, pending and due now, in the transaction that commits them (after the fenced
    /// update, so that a fenced write adds nothing). A message already there (its stable ID committed before) is kept as is.
    /// </summary>
    private void InsertOutbox(SqliteTransaction transaction, IReadOnlyList<OutboxMessage> messages, DateTimeOffset now)
    {
        if (messages.Count == 0)
        {
            return;
        }

        var insert = Cached(transaction,
            "INSERT INTO outbox (message_id, run_id, checkpoint_sequence, idx, destination, payload, status, attempts, created_at, due_at) " +
            "VALUES ($message_id, $run_id, $checkpoint_sequence, $idx, $destination, $payload, 0, 0, $now, $now) " +
            "ON CONFLICT (message_id) DO NOTHING");
        Bind(insert, "$now", Ticks(now));
        var id = Bind(insert, "$message_id", "");
        var runId = Bind(insert, "$run_id", "");
        var sequence = Bind(insert, "$checkpoint_sequence", 0L);
        var index = Bind(insert, "$idx", 0);
        var destination = Bind(insert, "$destination", "");
        var payload = Bind(insert, "$payload", Array.Empty<byte>());
        foreach (var message in messages)
        {
            id.Value = MessageKey(message.Id);
            runId.Value = Key(message.RunId);
            sequence.Value = message.CheckpointSequence;
            index.Value = message.Index;
            destination.Value = message.Destination;
            payload.Value = Bytes(message.Payload);
            insert.ExecuteNonQuery();
        }
    }

    private static OutboxMessage ReadOutboxMessage(SqliteDataReader reader, int first) =>
        new(
            Guid.ParseExact(reader.GetString(first), "N"),
            RunKey(reader.GetString(first + 1)),
            reader.GetInt64(first + 2),
            reader.GetInt32(first + 3),
            reader.GetString(first + 4),
            reader.GetFieldValue<byte[]>(first + 5))
        {
            Status = (OutboxStatus)reader.GetInt32(first + 6),
            Attempts = reader.GetInt32(first + 7),
            CreatedAt = Time(reader.GetInt64(first + 8)),
            DueAt = reader.IsDBNull(first + 9) ? null : Time(reader.GetInt64(first + 9)),
            LastError = reader.IsDBNull(first + 10) ? null : reader.GetString(first + 10),
        };

    private static string MessageKey(Guid id) => id.ToString("N");
}
