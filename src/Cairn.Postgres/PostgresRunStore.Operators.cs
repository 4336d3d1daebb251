using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    /// <inheritdoc />
    public Task<RunRecord?> FindRunAsync(string flowName, string recoveryId, CancellationToken cancellationToken) =>
        ReadAsync(
            _sql.FindRun,
            parameters =>
            {
                Add(parameters, "flow_name", flowName);
                Add(parameters, "recovery_id", recoveryId);
            },
            async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadRun(reader) : null,
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit <= 0 || query.Statuses is { Count: 0 })
        {
            return Task.FromResult<IReadOnlyList<RunRecord>>([]);
        }

        var (sql, values) = Filtered(_sql.ListRuns, query);
        sql.Append(" ORDER BY created_at DESC, run_id DESC LIMIT @limit");
        values.Add(new NpgsqlParameter<int>("limit", query.Limit));
        return ReadListAsync(
            sql.ToString(),
            parameters => values.ForEach(value => parameters.Add(value)),
            reader => ReadRun(reader),
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<RunStatus, long>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Statuses is { Count: 0 })
        {
            return new Dictionary<RunStatus, long>();
        }

        var (sql, values) = Filtered(_sql.CountRuns, query with { After = null });
        var rows = await ReadListAsync(
            sql.Append(" GROUP BY status").ToString(),
            parameters => values.ForEach(value => parameters.Add(value)),
            reader => ((RunStatus)reader.GetInt32(0), reader.GetInt64(1)),
            cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(row => row.Item1, row => row.Item2);
    }

    /// <summary>The query's filters as conditions after <paramref name="select"/>, each with its parameter.</summary>
    private static (StringBuilder Sql, List<NpgsqlParameter> Values) Filtered(string select, RunQuery query)
    {
        // Each filter adds its condition and its parameter together.
        var sql = new StringBuilder(select).Append(" WHERE true");
        var values = new List<NpgsqlParameter>();
        void Where<T>(string condition, string name, T value)
        {
            sql.Append(" AND ").Append(condition);
            values.Add(new NpgsqlParameter<T>(name, value));
        }

        if (query.Statuses is { } statuses)
        {
            Where("status = ANY(@statuses)", "statuses", statuses.Select(s => (int)s).ToArray());
        }

        if (query.FlowName is { } flowName)
        {
            Where("flow_name = @flow_name", "flow_name", flowName);
        }

        if (query.RecoveryId is { } recoveryId)
        {
            Where("recovery_id = @recovery_id", "recovery_id", recoveryId);
        }

        if (query.CreatedFrom is { } from)
        {
            Where("created_at >= @created_from", "created_from", from);
        }

        if (query.CreatedTo is { } to)
        {
            Where("created_at < @created_to", "created_to", to);
        }

        if (query.After is { } after)
        {
            Where("(created_at, run_id) < (@after_time, @after_id)", "after_time", after.CreatedAt);
            values.Add(new NpgsqlParameter<Guid>("after_id", after.RunId.Value));
        }

        return (sql, values);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadListAsync(
            _sql.GetEvents,
            parameters => Add(parameters, "run_id", runId.Value),
            reader => new RunEvent(Time(reader, 0), (RunEventKind)reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3))
            {
                RecoveryPoint = NullableString(reader, 4),
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadListAsync(
            _sql.Operators.GetCheckpoints,
            parameters => Add(parameters, "run_id", runId.Value),
            reader => new CheckpointSummary(
                reader.GetInt64(0), FlowPath.Parse(reader.GetString(1)), reader.GetString(2), NullableString(reader, 3), reader.GetString(4), Time(reader, 5), reader.GetInt32(6)),
            cancellationToken);

    /// <inheritdoc />
    public Task<Checkpoint?> GetCheckpointAsync(RunId runId, long sequence, CancellationToken cancellationToken) =>
        ReadAsync(
            _sql.Operators.GetCheckpoint,
            parameters =>
            {
                Add(parameters, "run_id", runId.Value);
                Add(parameters, "sequence", sequence);
            },
            async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false)
                ? new Checkpoint(
                    sequence, FlowPath.Parse(reader.GetString(0)), reader.GetString(1), NullableString(reader, 2), reader.GetFieldValue<byte[]>(3),
                    reader.GetString(4)) { CreatedAt = Time(reader, 5), Streams = StreamManifest.Parse(NullableString(reader, 6)) }
                : null,
            cancellationToken);

    /// <inheritdoc />
    public Task<ReadOnlyMemory<byte>?> GetResultAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync(
            _sql.GetResult,
            parameters => Add(parameters, "run_id", runId.Value),
            async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) && !reader.IsDBNull(0)
                ? (ReadOnlyMemory<byte>?)reader.GetFieldValue<byte[]>(0)
                : null,
            cancellationToken);

    /// <inheritdoc />
    public Task<RunRecord> RequestRerunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        OperatorActionAsync(_sql.Operators.RequestRerun, runId, RerunnableStatuses, StoreRules.EnsureCanRerun, message, cancellationToken);

    /// <inheritdoc />
    public async Task<RunRecord> RequestRerunFromAsync(
        RunId runId, long sequence, byte[]? state, string message, CancellationToken cancellationToken)
    {
        var run = await WriteAsync(
            _sql.Operators.RequestRerunFrom,
            parameters =>
            {
                Add(parameters, "run_id", runId.Value);
                Add(parameters, "sequence", sequence);
                Add(parameters, "allowed", RerunnableStatuses);
                Add(parameters, "checksum", state is null ? null : StoreRules.StateChecksum(state));
                parameters.Add(new NpgsqlParameter("state", NpgsqlDbType.Bytea) { Value = (object?)state ?? DBNull.Value });
                Add(parameters, "message", message);
            },
            reader => TryReadOperatorActionAsync(reader, runId, StoreRules.EnsureCanRerun), // Null: the run keeps no such checkpoint.
            cancellationToken).ConfigureAwait(false);

        return run ?? throw new CheckpointNotFoundException(
            runId, $"checkpoint {sequence}", await GetCheckpointsAsync(runId, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public Task<RunRecord> CancelRunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        OperatorActionAsync(_sql.Operators.CancelRun, runId, CancellableStatuses, StoreRules.EnsureCanCancel, message, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Runs in a transaction of its own, outside group commit: a large purge does not hold up the engines' writes.</remarks>
    public async Task<int> PurgeAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                using var command = new NpgsqlCommand(_sql.Purge, connection);
                Add(command.Parameters, "finished_before", finishedBefore.ToUniversalTime());
                return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }
        }
        catch (NpgsqlException ex) when (IsUnavailable(ex))
        {
            throw Unavailable(ex);
        }
    }

    // An operator action on one run that records its message: done only when the run's status is one of 'allowed';
    // otherwise 'ensure' words the refusal.
    private Task<RunRecord> OperatorActionAsync(
        string sql, RunId runId, int[] allowed, Action<RunId, RunStatus> ensure, string message, CancellationToken cancellationToken) =>
        WriteAsync(
            sql,
            parameters =>
            {
                Add(parameters, "run_id", runId.Value);
                Add(parameters, "allowed", allowed);
                Add(parameters, "message", message);
            },
            reader => ReadOperatorActionAsync(reader, runId, ensure),
            cancellationToken);

    /// <inheritdoc />
    /// <remarks>One statement: the checkpoint copy is made inside the database, so the state never travels.</remarks>
    public Task<RunRecord> RequestCompensationAsync(RunId runId, string compensation, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(compensation);
        return WriteAsync(
            _sql.Operators.RequestCompensation,
            parameters =>
            {
                Add(parameters, "run_id", runId.Value);
                Add(parameters, "allowed", CompensatableStatuses);
                Add(parameters, "compensation", compensation);
                Add(parameters, "message", message);
            },
            async reader =>
            {
                if (await TryReadOperatorActionAsync(reader, runId, StoreRules.EnsureCanCompensate).ConfigureAwait(false) is { } run)
                {
                    return run;
                }

                throw reader.GetBoolean(1 + RunColumnCount)
                    ? new InvalidOperationException($"Run {runId} was refused a compensation request its status allows.")
                    : new CheckpointNotFoundException(runId, "checkpoint", []);
            },
            cancellationToken);
    }
}
