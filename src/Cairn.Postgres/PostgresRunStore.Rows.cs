using Npgsql;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    private async Task<T> ReadAsync<T>(
        string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                using var command = new NpgsqlCommand(sql, connection);
                bind(command.Parameters);
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    return await read(reader, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (NpgsqlException ex) when (IsUnavailable(ex))
        {
            throw Unavailable(ex);
        }
    }

    // A read of every row of a result, one item a row.
    private Task<IReadOnlyList<T>> ReadListAsync<T>(
        string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, T> readRow, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<T>>(
            sql,
            bind,
            async (reader, ct) =>
            {
                var items = new List<T>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    items.Add(readRow(reader));
                }

                return items;
            },
            cancellationToken);

    private async ValueTask<bool> ReadFencedAsync(NpgsqlDataReader reader, RunLease lease)
    {
        if (await reader.ReadAsync().ConfigureAwait(false))
        {
            return true;
        }

        Log.Postgres.FencedWriteRefused(_logger, lease.RunId, lease.Epoch);
        throw new RunOwnershipLostException(lease);
    }

    private static async ValueTask<int> ReadCountAsync(NpgsqlDataReader reader)
    {
        await reader.ReadAsync().ConfigureAwait(false);
        return reader.GetInt32(0);
    }

    private static async ValueTask<RunRecord> ReadOperatorActionAsync(NpgsqlDataReader reader, RunId runId, Action<RunId, RunStatus> ensure) =>
        await TryReadOperatorActionAsync(reader, runId, ensure).ConfigureAwait(false)
        ?? throw new InvalidOperationException($"Run {runId} was refused an operator action its status allows.");

    // The row of an operator action: the run as changed (from column 1), or, when it was left as it was, its status
    // (column 0), whose refusal 'ensure' words; null when the status allows the action, for the caller to word why not.
    private static async ValueTask<RunRecord?> TryReadOperatorActionAsync(NpgsqlDataReader reader, RunId runId, Action<RunId, RunStatus> ensure)
    {
        if (!await reader.ReadAsync().ConfigureAwait(false))
        {
            throw new RunNotFoundException(runId);
        }

        if (!reader.IsDBNull(1))
        {
            return ReadRun(reader, first: 1);
        }

        ensure(runId, (RunStatus)reader.GetInt32(0));
        return null;
    }

    private static int[] StatusesAllowedBy(Action<RunId, RunStatus> ensure) =>
    [
        .. Enum.GetValues<RunStatus>()
            .Where(status =>
            {
                try
                {
                    ensure(default, status);
                    return true;
                }
                catch (InvalidRunStateException)
                {
                    return false;
                }
            })
            .Select(status => (int)status),
    ];

    private static RunRecord ReadRun(NpgsqlDataReader reader, int first = 0) => new()
    {
        Id = new RunId(reader.GetGuid(first)),
        FlowName = reader.GetString(first + 1),
        FlowVersion = reader.GetInt32(first + 2),
        RecoveryId = reader.GetString(first + 3),
        Status = (RunStatus)reader.GetInt32(first + 4),
        Attempt = reader.GetInt32(first + 5),
        RetriesUsed = reader.GetInt32(first + 6),
        CreatedAt = Time(reader, first + 7),
        UpdatedAt = Time(reader, first + 8),
        DueAt = NullableTime(reader, first + 9),
        FinishedAt = NullableTime(reader, first + 10),
        Owner = NullableString(reader, first + 11),
        LeaseEpoch = reader.GetInt64(first + 12),
        LeaseExpiresAt = NullableTime(reader, first + 13),
        Position = reader.GetString(first + 14),
        LastRecoveryPoint = NullableString(reader, first + 15),
        StatusMessage = NullableString(reader, first + 16),
        LastError = NullableString(reader, first + 17),
        CheckpointSequence = reader.GetInt64(first + 18),
        InputChecksum = reader.GetString(first + 19),
        Settings = reader.GetString(first + 20),
    };

    private static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static void AddFence(NpgsqlParameterCollection parameters, RunLease lease)
    {
        Add(parameters, "run_id", lease.RunId.Value);
        Add(parameters, "epoch", lease.Epoch);
    }

    // The outbox messages of a write as the parallel arrays its INSERT unnests; nothing when there are none (the
    // statement without outbox has no such parameters) unless 'always' (one that has them: empty arrays).
    private static void AddOutbox(NpgsqlParameterCollection parameters, IReadOnlyList<OutboxMessage> outbox, bool always = false)
    {
        if (outbox.Count == 0 && !always)
        {
            return;
        }

        Add(parameters, "outbox_ids", outbox.Select(m => m.Id).ToArray());
        Add(parameters, "outbox_sequences", outbox.Select(m => m.CheckpointSequence).ToArray());
        Add(parameters, "outbox_indexes", outbox.Select(m => m.Index).ToArray());
        Add(parameters, "outbox_destinations", outbox.Select(m => m.Destination).ToArray());
        parameters.Add(new NpgsqlParameter("outbox_payloads", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bytea)
        {
            Value = outbox.Select(m => m.Payload.ToArray()).ToArray(),
        });
    }

    private static void Add<T>(NpgsqlParameterCollection parameters, string name, T value) =>
        parameters.Add(new NpgsqlParameter<T>(name, value));

    // Two or three parameters by name, for the short statements that take no more.
    private static void Add<T1, T2>(NpgsqlParameterCollection parameters, (string Name, T1 Value) first, (string Name, T2 Value) second)
    {
        Add(parameters, first.Name, first.Value);
        Add(parameters, second.Name, second.Value);
    }

    private static void Add<T1, T2, T3>(NpgsqlParameterCollection parameters, (string Name, T1 Value) first, (string Name, T2 Value) second, (string Name, T3 Value) third)
    {
        Add(parameters, first, second);
        Add(parameters, third.Name, third.Value);
    }

    // A time that may be NULL, in UTC.
    private static void AddTime(NpgsqlParameterCollection parameters, string name, DateTimeOffset? time) =>
        parameters.Add(new NpgsqlParameter(name, NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = time is { } at ? at.ToUniversalTime() : DBNull.Value });

    // A run ID that may be NULL.
    private static void AddRun(NpgsqlParameterCollection parameters, string name, RunId? run) =>
        parameters.Add(new NpgsqlParameter(name, NpgsqlTypes.NpgsqlDbType.Uuid) { Value = run is { } id ? id.Value : DBNull.Value });
}
