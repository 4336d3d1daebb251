using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    /// <inheritdoc />
    public Task<RunRecord?> FindRunAsync(string flowName, string recoveryId, CancellationToken cancellationToken) =>
        ReadAsync(connection => FindRun(connection, null, flowName, recoveryId), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit <= 0 || query.Statuses is { Count: 0 })
        {
            return Task.FromResult<IReadOnlyList<RunRecord>>([]);
        }

        return ReadAsync<IReadOnlyList<RunRecord>>(connection =>
        {
            using var command = connection.CreateCommand();
            var sql = new System.Text.StringBuilder($"SELECT {RunColumns} FROM runs WHERE 1 = 1");
            AppendFilters(sql, command, query);
            sql.Append(" ORDER BY created_at DESC, run_id DESC LIMIT $limit");
            Bind(command, "$limit", query.Limit);
            command.CommandText = sql.ToString();
            return ReadRuns(command);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<RunStatus, long>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Statuses is { Count: 0 })
        {
            return Task.FromResult<IReadOnlyDictionary<RunStatus, long>>(new Dictionary<RunStatus, long>());
        }

        return ReadAsync<IReadOnlyDictionary<RunStatus, long>>(connection =>
        {
            using var command = connection.CreateCommand();
            var sql = new System.Text.StringBuilder("SELECT status, COUNT(*) FROM runs WHERE 1 = 1");
            AppendFilters(sql, command, query with { After = null });
            command.CommandText = sql.Append(" GROUP BY status").ToString();
            using var reader = command.ExecuteReader();
            var counts = new Dictionary<RunStatus, long>();
            while (reader.Read())
            {
                counts[(RunStatus)reader.GetInt32(0)] = reader.GetInt64(1);
            }

            return counts;
        }, cancellationToken);
    }

    // The query's filters as conditions on the runs table, each with its parameter.
    private static void AppendFilters(System.Text.StringBuilder sql, SqliteCommand command, RunQuery query)
    {
        if (query.Statuses is { } statuses)
        {
            sql.Append(" AND status IN (").Append(string.Join(", ", statuses.Select(s => ((int)s).ToString(CultureInfo.InvariantCulture)))).Append(')');
        }

        if (query.FlowName is { } flowName)
        {
            sql.Append(" AND flow_name = $flow_name");
            Bind(command, "$flow_name", flowName);
        }

        if (query.RecoveryId is { } recoveryId)
        {
            sql.Append(" AND recovery_id = $recovery_id");
            Bind(command, "$recovery_id", recoveryId);
        }

        if (query.CreatedFrom is { } from)
        {
            sql.Append(" AND created_at >= $created_from");
            Bind(command, "$created_from", Ticks(from));
        }

        if (query.CreatedTo is { } to)
        {
            sql.Append(" AND created_at < $created_to");
            Bind(command, "$created_to", Ticks(to));
        }

        if (query.After is { } after)
        {
            sql.Append(" AND (created_at < $after_time OR (created_at = $after_time AND run_id < $after_id))");
            Bind(command, "$after_time", Ticks(after.CreatedAt));
            Bind(command, "$after_id", Key(after.RunId));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<RunEvent>>(connection =>
        {
            using var command = Command(connection, null, "SELECT time, kind, attempt, message, recovery_point FROM events WHERE run_id = $run_id ORDER BY id");
            Bind(command, "$run_id", Key(runId));
            using var reader = command.ExecuteReader();
            var events = new List<RunEvent>();
            while (reader.Read())
            {
                events.Add(new RunEvent(Time(reader.GetInt64(0)), (RunEventKind)reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3))
                {
                    RecoveryPoint = reader.IsDBNull(4) ? null : reader.GetString(4),
                });
            }

            return events;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<CheckpointSummary>>(connection => GetCheckpoints(connection, null, runId), cancellationToken);

    /// <inheritdoc />
    public Task<Checkpoint?> GetCheckpointAsync(RunId runId, long sequence, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            using var command = Command(connection, null,
                "SELECT position, recovery_point, status_message, state, checksum, created_at, compensation, streams FROM checkpoints " +
                "WHERE run_id = $run_id AND sequence = $sequence");
            Bind(command, "$run_id", Key(runId));
            Bind(command, "$sequence", sequence);
            using var reader = command.ExecuteReader();
            return reader.Read()
                ? new Checkpoint(
                    sequence, FlowPath.Parse(reader.GetString(0)), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetFieldValue<byte[]>(3), reader.GetString(4))
                {
                    CreatedAt = Time(reader.GetInt64(5)),
                    Compensation = reader.IsDBNull(6) ? null : reader.GetString(6),
                    Streams = StreamManifest.Parse(reader.IsDBNull(7) ? null : reader.GetString(7)),
                }
                : null;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<ReadOnlyMemory<byte>?> GetResultAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            using var command = Command(connection, null, "SELECT result FROM run_data WHERE run_id = $run_id");
            Bind(command, "$run_id", Key(runId));
            using var reader = command.ExecuteReader();
            return reader.Read() && !reader.IsDBNull(0) ? (ReadOnlyMemory<byte>?)reader.GetFieldValue<byte[]>(0) : null;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<RunRecord> RequestRerunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var run = GetRun(connection, transaction, runId) ?? throw new RunNotFoundException(runId);
            StoreRules.EnsureCanRerun(runId, run.Status);
            UpdateRun(connection, transaction, runId, now, "status = 0, due_at = $now, finished_at = NULL, updated_at = $now");

            InsertEvent(transaction, runId, now, RunEventKind.RerunRequested, run.Attempt, message, run.LastRecoveryPoint);
            return StoreRules.Rerun(run, now);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<RunRecord> RequestRerunFromAsync(
        RunId runId, long sequence, byte[]? state, string message, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var run = GetRun(connection, transaction, runId) ?? throw new RunNotFoundException(runId);
            StoreRules.EnsureCanRerun(runId, run.Status);
            var kept = GetCheckpoints(connection, transaction, runId);
            var source = kept.Find(c => c.Sequence == sequence)
                ?? throw new CheckpointNotFoundException(runId, $"checkpoint {sequence}", kept);
            var copySequence = Math.Max(run.CheckpointSequence, kept[0].Sequence) + 1;

            // The copy is made inside the database: an unedited state is never read into memory.
            using (var copy = Command(connection, transaction,
                "INSERT INTO checkpoints (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state, compensation, streams) " +
                "SELECT run_id, $copy_sequence, position, recovery_point, status_message, COALESCE($checksum, checksum), $now, COALESCE($state, state), compensation, streams " +
                "FROM checkpoints WHERE run_id = $run_id AND sequence = $sequence"))
            {
                Bind(copy, "$run_id", Key(runId));
                Bind(copy, "$sequence", sequence);
                Bind(copy, "$copy_sequence", copySequence);
                Bind(copy, "$checksum", state is null ? null : StoreRules.StateChecksum(state));
                Bind(copy, "$state", state);
                Bind(copy, "$now", Ticks(now));
                copy.ExecuteNonQuery();
            }

            using (var update = Command(connection, transaction,
                "UPDATE runs SET status = 0, due_at = $now, finished_at = NULL, updated_at = $now, position = $position, " +
                "last_recovery_point = $recovery_point, status_message = $status_message, checkpoint_sequence = $copy_sequence " +
                "WHERE run_id = $run_id"))
            {
                Bind(update, "$now", Ticks(now));
                Bind(update, "$position", source.Position.ToString());
                Bind(update, "$recovery_point", source.RecoveryPoint);
                Bind(update, "$status_message", source.StatusMessage);
                Bind(update, "$copy_sequence", copySequence);
                Bind(update, "$run_id", Key(runId));
                update.ExecuteNonQuery();
            }

            InsertEvent(transaction, runId, now, RunEventKind.RerunRequested, run.Attempt,
                StoreRules.RerunFromMessage(message, source.RecoveryPoint, sequence, copySequence, state is not null), source.RecoveryPoint);
            return StoreRules.RerunFrom(run, source.Position, source.RecoveryPoint, source.StatusMessage, copySequence, now);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<RunRecord> CancelRunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var run = GetRun(connection, transaction, runId) ?? throw new RunNotFoundException(runId);
            StoreRules.EnsureCanCancel(runId, run.Status);
            UpdateRun(connection, transaction, runId, now,
                "status = 6, lease_epoch = lease_epoch + 1, lease_expires_at = NULL, due_at = NULL, finished_at = $now, updated_at = $now");
            InsertEvent(transaction, runId, now, RunEventKind.Cancelled, run.Attempt, message);
            return StoreRules.Cancelled(run, now);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> PurgeAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, _) =>
        {
            // Checkpoints, events and outbox messages go with their run (ON DELETE CASCADE); the count is of runs only.
            using var command = Command(connection, transaction,
                "DELETE FROM runs WHERE status IN (4, 5, 6, 7) AND finished_at < $finished_before");
            Bind(command, "$finished_before", Ticks(finishedBefore));
            return command.ExecuteNonQuery();
        }, cancellationToken);

    // An operator's change of one run, whatever its lease: the columns to set, with $now for the time.
    private static void UpdateRun(SqliteConnection connection, SqliteTransaction transaction, RunId runId, DateTimeOffset now, string set)
    {
        using var update = Command(connection, transaction, "UPDATE runs SET " + set + " WHERE run_id = $run_id");
        Bind(update, "$now", Ticks(now));
        Bind(update, "$run_id", Key(runId));
        update.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public Task<RunRecord> RequestCompensationAsync(RunId runId, string compensation, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(compensation);
        return WriteAsync((connection, transaction, now) =>
        {
            var run = GetRun(connection, transaction, runId) ?? throw new RunNotFoundException(runId);
            StoreRules.EnsureCanCompensate(runId, run.Status);
            var kept = GetCheckpoints(connection, transaction, runId);
            var latest = kept.Count > 0 ? kept[0] : throw new CheckpointNotFoundException(runId, "checkpoint", []);
            var copySequence = Math.Max(run.CheckpointSequence, latest.Sequence) + 1;

            // As a re-run's copy, made inside the database: the state is never read into memory.
            using (var copy = Command(connection, transaction,
                "INSERT INTO checkpoints (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state, compensation, streams) " +
                "SELECT run_id, $copy_sequence, position, recovery_point, status_message, checksum, $now, state, $compensation, streams " +
                "FROM checkpoints WHERE run_id = $run_id AND sequence = $sequence"))
            {
                Bind(copy, "$run_id", Key(runId));
                Bind(copy, "$sequence", latest.Sequence);
                Bind(copy, "$copy_sequence", copySequence);
                Bind(copy, "$compensation", compensation);
                Bind(copy, "$now", Ticks(now));
                copy.ExecuteNonQuery();
            }

            using (var update = Command(connection, transaction,
                "UPDATE runs SET status = 0, lease_epoch = lease_epoch + 1, lease_expires_at = NULL, due_at = $now, finished_at = NULL, " +
                "checkpoint_sequence = $copy_sequence, updated_at = $now WHERE run_id = $run_id"))
            {
                Bind(update, "$now", Ticks(now));
                Bind(update, "$copy_sequence", copySequence);
                Bind(update, "$run_id", Key(runId));
                update.ExecuteNonQuery();
            }

            InsertEvent(transaction, runId, now, RunEventKind.CompensationRequested, run.Attempt, message, latest.RecoveryPoint);
            return StoreRules.CompensationRequested(run, copySequence, now);
        }, cancellationToken);
    }
}
