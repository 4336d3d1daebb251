using System.Globalization;
using System.Runtime.InteropServices;
using Cairn.Runs;
using Cairn.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Sqlite;

/// <summary>
/// The embedded store: runs, checkpoints and events in one SQLite file with a WAL journal. One engine works on a file
/// at a time (see <see cref="AcquireWorkerLockAsync"/>); other processes, such as the <c>cairn</c> tool, may read and
/// make operator changes while it runs.
/// </summary>
/// <remarks>
/// Writes run in <c>BEGIN IMMEDIATE</c> transactions, one at a time per store instance; writes of other processes are
/// waited for up to <see cref="SqliteStoreOptions.BusyTimeout"/>. Times are stored as UTC ticks.
/// </remarks>
public sealed partial class SqliteRunStore : RunStore, IRunQueries, IRunOperations
{
    private const string RunColumns =
        "run_id, flow_name, flow_version, recovery_id, status, attempt, retries_used, created_at, updated_at, due_at, " +
        "finished_at, owner, lease_epoch, lease_expires_at, position, last_recovery_point, status_message, last_error, " +
        "checkpoint_sequence, input_checksum, settings";

    private const string FenceCondition = "run_id = $run_id AND lease_epoch = $epoch AND status = 1";

    private const string InsertEventSql =
        "INSERT INTO events (run_id, time, kind, attempt, message) VALUES ($run_id, $time, $kind, $attempt, $message)";

    private readonly string _path;
    private readonly string _connectionString;
    private readonly string _connectionPragmas;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly int _maxGroupCommitSize;
    private int _disposed;

    /// <summary>Creates a store over the file the options name. Call <see cref="InitializeAsync"/> before using it.</summary>
    /// <param name="options">The store's settings.</param>
    /// <param name="logger">Where the store logs schema changes and the worker lock. Default: nowhere.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public SqliteRunStore(SqliteStoreOptions options, ILogger<SqliteRunStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _path = Path.GetFullPath(options.Path);
        _timeProvider = options.TimeProvider;
        _maxGroupCommitSize = options.MaxGroupCommitSize;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        var busyMilliseconds = (int)Math.Ceiling(options.BusyTimeout.TotalMilliseconds);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            // Microsoft.Data.Sqlite retries busy statements until the command timeout (seconds; 0 would mean forever).
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
        var synchronous = options.Durability == SqliteDurability.Normal ? "NORMAL" : "FULL";
        _connectionPragmas = string.Create(
            CultureInfo.InvariantCulture, $"PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = {busyMilliseconds};");
    }

    /// <inheritdoc />
    public override async Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);

        // A caller resuming by recovery ID finds its run without waiting for the write lock.
        if (await FindRunAsync(run.FlowName, run.RecoveryId, cancellationToken).ConfigureAwait(false) is { } found)
        {
            return new CreateRunResult(found, Created: false);
        }

        return await WriteAsync((connection, transaction, now) =>
        {
            if (FindRun(connection, transaction, run.FlowName, run.RecoveryId) is { } existing)
            {
                return new CreateRunResult(existing, Created: false);
            }

            var record = new RunRecord
            {
                Id = run.Id,
                FlowName = run.FlowName,
                FlowVersion = run.FlowVersion,
                RecoveryId = run.RecoveryId,
                Status = RunStatus.Pending,
                CreatedAt = now,
                UpdatedAt = now,
                DueAt = now,
                InputChecksum = run.InputChecksum,
                Settings = run.Settings,
            };
            string? startedMessage = null;
            if (run.ClaimFor is { } claimFor)
            {
                startedMessage = StoreRules.StartedMessage(record, claimFor.Owner);
                record = record with
                {
                    Status = RunStatus.Running, Attempt = 1, Owner = claimFor.Owner, LeaseEpoch = 1, LeaseExpiresAt = now + claimFor.LeaseDuration, DueAt = null,
                };
            }

            {
                var insert = Cached(transaction,
                "INSERT INTO runs (run_id, flow_name, flow_version, recovery_id, status, attempt, owner, lease_epoch, lease_expires_at, " +
                "created_at, updated_at, due_at, input_checksum, settings) " +
                "VALUES ($run_id, $flow_name, $flow_version, $recovery_id, $status, $attempt, $owner, $lease_epoch, $lease_expires_at, " +
                "$now, $now, $due_at, $input_checksum, $settings); " +
                "INSERT INTO run_data (run_id, input) VALUES ($run_id, $input)");
                Bind(insert, "$run_id", Key(run.Id));
                Bind(insert, "$flow_name", run.FlowName);
                Bind(insert, "$flow_version", run.FlowVersion);
                Bind(insert, "$recovery_id", run.RecoveryId);
                Bind(insert, "$status", (int)record.Status);
                Bind(insert, "$attempt", record.Attempt);
                Bind(insert, "$owner", record.Owner);
                Bind(insert, "$lease_epoch", record.LeaseEpoch);
                Bind(insert, "$lease_expires_at", record.LeaseExpiresAt?.UtcTicks);
                Bind(insert, "$now", Ticks(now));
                Bind(insert, "$due_at", record.DueAt?.UtcTicks);
                Bind(insert, "$input_checksum", run.InputChecksum);
                Bind(insert, "$settings", run.Settings);
                Bind(insert, "$input", Bytes(run.Input));
                insert.ExecuteNonQuery();
            }

            InsertEvent(transaction, run.Id, now, RunEventKind.Created, 0, $"run created for recovery ID '{run.RecoveryId}'");
            if (startedMessage is not null)
            {
                InsertEvent(transaction, run.Id, now, RunEventKind.Started, 1, startedMessage);
                return new CreateRunResult(record, Created: true, new RunLease(run.Id, record.Owner!, 1));
            }

            return new CreateRunResult(record, Created: true);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task<RunRecord?> GetRunAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync(connection => GetRun(connection, null, runId), cancellationToken);

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

            sql.Append(" ORDER BY created_at DESC, run_id DESC LIMIT $limit");
            Bind(command, "$limit", query.Limit);
            command.CommandText = sql.ToString();
            return ReadRuns(command);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<RunEvent>>(connection =>
        {
            using var command = Command(connection, null, "SELECT time, kind, attempt, message FROM events WHERE run_id = $run_id ORDER BY id");
            Bind(command, "$run_id", Key(runId));
            using var reader = command.ExecuteReader();
            var events = new List<RunEvent>();
            while (reader.Read())
            {
                events.Add(new RunEvent(Time(reader.GetInt64(0)), (RunEventKind)reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3)));
            }

            return events;
        }, cancellationToken);

    /// <inheritdoc />
    public override Task<RecoveryData> GetRecoveryDataAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            // One read transaction: the input and the checkpoint come from the same snapshot.
            using var transaction = connection.BeginTransaction(deferred: true);
            ReadOnlyMemory<byte>? input;
            using (var command = Command(connection, transaction, "SELECT d.input FROM runs r LEFT JOIN run_data d ON d.run_id = r.run_id WHERE r.run_id = $run_id"))
            {
                Bind(command, "$run_id", Key(runId));
                using var reader = command.ExecuteReader();
                if (!reader.Read())
                {
                    throw new RunNotFoundException(runId);
                }

                input = reader.IsDBNull(0) ? null : (ReadOnlyMemory<byte>?)reader.GetFieldValue<byte[]>(0);
            }

            Checkpoint? checkpoint = null;
            using (var command = Command(connection, transaction,
                "SELECT sequence, position, recovery_point, status_message, checksum, created_at, state FROM checkpoints " +
                "WHERE run_id = $run_id ORDER BY sequence DESC LIMIT 1"))
            {
                Bind(command, "$run_id", Key(runId));
                using var reader = command.ExecuteReader();
                if (reader.Read())
                {
                    checkpoint = new Checkpoint(
                        reader.GetInt64(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.IsDBNull(3) ? null : reader.GetString(3),
                        reader.GetFieldValue<byte[]>(6),
                        reader.GetString(4))
                    {
                        CreatedAt = Time(reader.GetInt64(5)),
                    };
                }
            }

            transaction.Commit();
            return new RecoveryData(input, checkpoint);
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
    public override Task<IReadOnlyList<ClaimedRun>> ClaimDueRunsAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MaxRuns <= 0 || request.FlowNames.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<ClaimedRun>>([]);
        }

        return WriteAsync<IReadOnlyList<ClaimedRun>>((connection, transaction, now) =>
        {
            List<RunRecord> due;
            using (var select = Command(connection, transaction, ""))
            {
                var flowParameters = new List<string>(request.FlowNames.Count);
                foreach (var flowName in request.FlowNames)
                {
                    var name = string.Create(CultureInfo.InvariantCulture, $"$flow{flowParameters.Count}");
                    flowParameters.Add(name);
                    Bind(select, name, flowName);
                }

                // A range scan of the partial index runs_claim_order, oldest due first, that stops after $max_runs matches:
                // a claim costs the same with a queue of ten runs or a million. Without INDEXED BY, SQLite (lacking
                // statistics) prefers an index on status or flow_name and sorts every claimable run. A run without a due
                // time is claimable now and is ordered by its last change, which is never later than now. Equal due times
                // come in insertion order (rowid), as in the in-memory store.
                select.CommandText =
                    $"SELECT {RunColumns} FROM runs INDEXED BY runs_claim_order " +
                    "WHERE status IN (0, 2, 3) AND COALESCE(due_at, updated_at) <= $now AND (due_at IS NULL OR due_at <= $now) " +
                    $"AND flow_name IN ({string.Join(", ", flowParameters)}) " +
                    "ORDER BY COALESCE(due_at, updated_at) LIMIT $max_runs";
                Bind(select, "$now", Ticks(now));
                Bind(select, "$max_runs", request.MaxRuns);
                due = ReadRuns(select);
            }

            var claimed = new List<ClaimedRun>(due.Count);
            if (due.Count == 0)
            {
                return claimed;
            }

            var leaseExpiresAt = now + request.LeaseDuration;
            var update = Cached(transaction,
                "UPDATE runs SET status = 1, attempt = attempt + 1, owner = $owner, lease_epoch = lease_epoch + 1, " +
                "lease_expires_at = $lease_expires_at, due_at = NULL, updated_at = $now WHERE run_id = $run_id");
            Bind(update, "$owner", request.Owner);
            Bind(update, "$lease_expires_at", Ticks(leaseExpiresAt));
            Bind(update, "$now", Ticks(now));
            var runIdParameter = Bind(update, "$run_id", "");
            foreach (var run in due)
            {
                var message = StoreRules.StartedMessage(run, request.Owner);
                var started = run with
                {
                    Status = RunStatus.Running,
                    Attempt = run.Attempt + 1,
                    Owner = request.Owner,
                    LeaseEpoch = run.LeaseEpoch + 1,
                    LeaseExpiresAt = leaseExpiresAt,
                    DueAt = null,
                    UpdatedAt = now,
                };
                runIdParameter.Value = Key(run.Id);
                update.ExecuteNonQuery();
                InsertEvent(transaction, run.Id, now, RunEventKind.Started, started.Attempt, message);
                claimed.Add(new ClaimedRun(started, new RunLease(run.Id, request.Owner, started.LeaseEpoch)));
            }

            return claimed;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public override Task<int> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var command = Cached(transaction,
                "UPDATE runs SET lease_expires_at = $lease_expires_at WHERE status = 1 AND owner = $owner");
            Bind(command, "$lease_expires_at", Ticks(now + leaseDuration));
            Bind(command, "$owner", owner);
            return command.ExecuteNonQuery();
        }, cancellationToken);

    /// <inheritdoc />
    public override Task SaveCheckpointAsync(RunLease lease, Checkpoint checkpoint, int keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        return WriteAsync((connection, transaction, now) =>
        {
            var attempt = UpdateFenced(transaction, lease,
                "position = $position, last_recovery_point = $recovery_point, status_message = $status_message, " +
                "checkpoint_sequence = $sequence, updated_at = $now",
                command =>
                {
                    Bind(command, "$position", checkpoint.Position);
                    Bind(command, "$recovery_point", checkpoint.RecoveryPoint);
                    Bind(command, "$status_message", checkpoint.StatusMessage);
                    Bind(command, "$sequence", checkpoint.Sequence);
                    Bind(command, "$now", Ticks(now));
                });

            {
                var insert = Cached(transaction,
                "INSERT INTO checkpoints (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state) " +
                "VALUES ($run_id, $sequence, $position, $recovery_point, $status_message, $checksum, $now, $state) " +
                "ON CONFLICT (run_id, sequence) DO UPDATE SET position = excluded.position, recovery_point = excluded.recovery_point, " +
                "status_message = excluded.status_message, checksum = excluded.checksum, created_at = excluded.created_at, state = excluded.state");
                Bind(insert, "$run_id", Key(lease.RunId));
                Bind(insert, "$sequence", checkpoint.Sequence);
                Bind(insert, "$position", checkpoint.Position);
                Bind(insert, "$recovery_point", checkpoint.RecoveryPoint);
                Bind(insert, "$status_message", checkpoint.StatusMessage);
                Bind(insert, "$checksum", checkpoint.Checksum);
                Bind(insert, "$now", Ticks(now));
                Bind(insert, "$state", Bytes(checkpoint.State));
                insert.ExecuteNonQuery();
            }

            {
                var prune = Cached(transaction,
                "DELETE FROM checkpoints WHERE run_id = $run_id AND sequence <= " +
                "(SELECT sequence FROM checkpoints WHERE run_id = $run_id ORDER BY sequence DESC LIMIT 1 OFFSET $keep)");
                Bind(prune, "$run_id", Key(lease.RunId));
                Bind(prune, "$keep", keep);
                prune.ExecuteNonQuery();
            }

            InsertEvent(transaction, lease.RunId, now, RunEventKind.RecoveryPointPassed, attempt,
                StoreRules.RecoveryPointPassedMessage(checkpoint));
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public override Task TransitionAsync(RunLease lease, RunTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(transition);
        return WriteAsync((connection, transaction, now) =>
        {
            var attempt = UpdateFenced(transaction, lease,
                "status = $status, last_error = COALESCE($last_error, last_error), due_at = $due_at, " +
                "retries_used = retries_used + $retry, finished_at = $finished_at, lease_expires_at = NULL, updated_at = $now",
                command =>
                {
                    Bind(command, "$status", (int)transition.Status);
                    Bind(command, "$last_error", transition.LastError);
                    Bind(command, "$due_at", transition.RetryAfter is { } after ? Ticks(now + after) : null);
                    Bind(command, "$retry", transition.CountsAsRetry ? 1 : 0);
                    Bind(command, "$finished_at", transition.Status.IsFinished() ? Ticks(now) : null);
                    Bind(command, "$now", Ticks(now));
                });
            InsertEvent(transaction, lease.RunId, now, transition.EventKind, attempt, transition.Message);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public override Task CompleteRunAsync(RunLease lease, ReadOnlyMemory<byte> result, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return WriteAsync((connection, transaction, now) =>
        {
            var attempt = UpdateFenced(transaction, lease,
                "status = 4, finished_at = $now, lease_expires_at = NULL, updated_at = $now",
                command => Bind(command, "$now", Ticks(now)));
            {
                var data = Cached(transaction,
                "INSERT INTO run_data (run_id, input, result) VALUES ($run_id, NULL, $result) " +
                "ON CONFLICT (run_id) DO UPDATE SET input = NULL, result = excluded.result; " +
                "DELETE FROM checkpoints WHERE run_id = $run_id");
                Bind(data, "$run_id", Key(lease.RunId));
                Bind(data, "$result", Bytes(result));
                data.ExecuteNonQuery();
            }

            InsertEvent(transaction, lease.RunId, now, RunEventKind.Completed, attempt, message);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public override Task<int> InterruptAbandonedRunsAsync(string owner, bool exclusive, TimeSpan resumeAfter, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var abandoned = new List<(RunId Id, string? Owner, int Attempt)>();
            using (var select = Command(connection, transaction,
                "SELECT run_id, owner, attempt FROM runs WHERE status = 1 " +
                "AND ($exclusive OR lease_expires_at <= $now) ORDER BY created_at, run_id"))
            {
                Bind(select, "$now", Ticks(now));
                Bind(select, "$exclusive", exclusive);
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    abandoned.Add((RunKey(reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2)));
                }
            }

            if (abandoned.Count == 0)
            {
                return 0;
            }

            using var update = Command(connection, transaction,
                "UPDATE runs SET status = 3, lease_expires_at = NULL, due_at = $due_at, updated_at = $now WHERE run_id = $run_id");
            Bind(update, "$due_at", Ticks(now + resumeAfter));
            Bind(update, "$now", Ticks(now));
            var runIdParameter = Bind(update, "$run_id", "");
            foreach (var run in abandoned)
            {
                runIdParameter.Value = Key(run.Id);
                update.ExecuteNonQuery();
                InsertEvent(transaction, run.Id, now, RunEventKind.Interrupted, run.Attempt,
                    $"owner {run.Owner} is gone; the run will resume from its last recovery point");
            }

            return abandoned.Count;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<RunRecord> RequestRerunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var run = GetRun(connection, transaction, runId) ?? throw new RunNotFoundException(runId);
            StoreRules.EnsureCanRerun(runId, run.Status);
            using (var update = Command(connection, transaction,
                "UPDATE runs SET status = 0, due_at = $now, finished_at = NULL, updated_at = $now WHERE run_id = $run_id"))
            {
                Bind(update, "$now", Ticks(now));
                Bind(update, "$run_id", Key(runId));
                update.ExecuteNonQuery();
            }

            InsertEvent(transaction, runId, now, RunEventKind.RerunRequested, run.Attempt, message);
            return run with { Status = RunStatus.Pending, DueAt = now, FinishedAt = null, UpdatedAt = now };
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<CheckpointSummary>>(connection => GetCheckpoints(connection, null, runId), cancellationToken);

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
                "INSERT INTO checkpoints (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state) " +
                "SELECT run_id, $copy_sequence, position, recovery_point, status_message, COALESCE($checksum, checksum), $now, COALESCE($state, state) " +
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
                Bind(update, "$position", source.Position);
                Bind(update, "$recovery_point", source.RecoveryPoint);
                Bind(update, "$status_message", source.StatusMessage);
                Bind(update, "$copy_sequence", copySequence);
                Bind(update, "$run_id", Key(runId));
                update.ExecuteNonQuery();
            }

            InsertEvent(transaction, runId, now, RunEventKind.RerunRequested, run.Attempt,
                StoreRules.RerunFromMessage(message, source.RecoveryPoint, sequence, copySequence, state is not null));
            return run with
            {
                Status = RunStatus.Pending,
                DueAt = now,
                FinishedAt = null,
                UpdatedAt = now,
                Position = source.Position,
                LastRecoveryPoint = source.RecoveryPoint,
                StatusMessage = source.StatusMessage,
                CheckpointSequence = copySequence,
            };
        }, cancellationToken);

    /// <inheritdoc />
    public Task<RunRecord> CancelRunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var run = GetRun(connection, transaction, runId) ?? throw new RunNotFoundException(runId);
            StoreRules.EnsureCanCancel(runId, run.Status);
            using (var update = Command(connection, transaction,
                "UPDATE runs SET status = 6, lease_epoch = lease_epoch + 1, lease_expires_at = NULL, due_at = NULL, " +
                "finished_at = $now, updated_at = $now WHERE run_id = $run_id"))
            {
                Bind(update, "$now", Ticks(now));
                Bind(update, "$run_id", Key(runId));
                update.ExecuteNonQuery();
            }

            InsertEvent(transaction, runId, now, RunEventKind.Cancelled, run.Attempt, message);
            return run with
            {
                Status = RunStatus.Cancelled,
                LeaseEpoch = run.LeaseEpoch + 1,
                LeaseExpiresAt = null,
                DueAt = null,
                FinishedAt = now,
                UpdatedAt = now,
            };
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> PurgeAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, _) =>
        {
            // Checkpoints and events go with their run (ON DELETE CASCADE); the count is of runs only.
            using var command = Command(connection, transaction,
                "DELETE FROM runs WHERE status IN (4, 5, 6) AND finished_at < $finished_before");
            Bind(command, "$finished_before", Ticks(finishedBefore));
            return command.ExecuteNonQuery();
        }, cancellationToken);

    /// <inheritdoc />
    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Let a batch being committed finish; writes queued behind it fail with ObjectDisposedException.
            _writeLock.Wait();
            // Pooled connections keep the file open; close them so that the file can be moved or deleted.
            using (var connection = new SqliteConnection(_connectionString))
            {
                SqliteConnection.ClearPool(connection);
            }

            CloseWriter();
            _writeLock.Dispose();
        }

        return base.DisposeAsync();
    }

    /// <summary>Opens a pooled connection with the store's per-connection settings. Internal for tests.</summary>
    internal SqliteConnection OpenConnection() => OpenConnection(forWrites: true);

    // Reads skip the per-connection pragmas: durability does not concern them, and Microsoft.Data.Sqlite retries a
    // busy read until the command timeout.
    private SqliteConnection OpenConnection(bool forWrites)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            if (!forWrites)
            {
                return connection;
            }

            using var command = connection.CreateCommand();
            command.CommandText = _connectionPragmas;
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // Microsoft.Data.Sqlite does its I/O synchronously even behind its async methods, so the work runs as plain code;
    // only the wait for the in-process write lock is asynchronous.
    private Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        try
        {
            using var connection = OpenConnection(forWrites: false);
            return Task.FromResult(read(connection));
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    // The fenced update of a running run: changes nothing and throws unless the lease still holds. Returns the attempt.
    private int UpdateFenced(SqliteTransaction transaction, RunLease lease, string assignments, Action<SqliteCommand> bind)
    {
        var command = Cached(transaction, $"UPDATE runs SET {assignments} WHERE {FenceCondition} RETURNING attempt");
        Bind(command, "$run_id", Key(lease.RunId));
        Bind(command, "$epoch", lease.Epoch);
        bind(command);
        return command.ExecuteScalar() is long attempt
            ? (int)attempt
            : throw new RunOwnershipLostException(lease); // Thrown inside the transaction, which then rolls back.
    }

    private static RunRecord? GetRun(SqliteConnection connection, SqliteTransaction? transaction, RunId runId)
    {
        using var command = Command(connection, transaction, $"SELECT {RunColumns} FROM runs WHERE run_id = $run_id");
        Bind(command, "$run_id", Key(runId));
        return ReadRuns(command) is [var run] ? run : null;
    }

    private static List<CheckpointSummary> GetCheckpoints(SqliteConnection connection, SqliteTransaction? transaction, RunId runId)
    {
        using var command = Command(connection, transaction,
            "SELECT sequence, position, recovery_point, status_message, checksum, created_at, length(state) FROM checkpoints " +
            "WHERE run_id = $run_id ORDER BY sequence DESC");
        Bind(command, "$run_id", Key(runId));
        using var reader = command.ExecuteReader();
        var checkpoints = new List<CheckpointSummary>();
        while (reader.Read())
        {
            checkpoints.Add(new CheckpointSummary(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetString(4),
                Time(reader.GetInt64(5)),
                reader.GetInt32(6)));
        }

        return checkpoints;
    }

    private static RunRecord? FindRun(SqliteConnection connection, SqliteTransaction? transaction, string flowName, string recoveryId)
    {
        using var command = Command(connection, transaction, $"SELECT {RunColumns} FROM runs WHERE flow_name = $flow_name AND recovery_id = $recovery_id");
        Bind(command, "$flow_name", flowName);
        Bind(command, "$recovery_id", recoveryId);
        return ReadRuns(command) is [var run] ? run : null;
    }

    private static List<RunRecord> ReadRuns(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var runs = new List<RunRecord>();
        while (reader.Read())
        {
            runs.Add(new RunRecord
            {
                Id = RunKey(reader.GetString(0)),
                FlowName = reader.GetString(1),
                FlowVersion = reader.GetInt32(2),
                RecoveryId = reader.GetString(3),
                Status = (RunStatus)reader.GetInt32(4),
                Attempt = reader.GetInt32(5),
                RetriesUsed = reader.GetInt32(6),
                CreatedAt = Time(reader.GetInt64(7)),
                UpdatedAt = Time(reader.GetInt64(8)),
                DueAt = reader.IsDBNull(9) ? null : Time(reader.GetInt64(9)),
                FinishedAt = reader.IsDBNull(10) ? null : Time(reader.GetInt64(10)),
                Owner = reader.IsDBNull(11) ? null : reader.GetString(11),
                LeaseEpoch = reader.GetInt64(12),
                LeaseExpiresAt = reader.IsDBNull(13) ? null : Time(reader.GetInt64(13)),
                Position = reader.GetString(14),
                LastRecoveryPoint = reader.IsDBNull(15) ? null : reader.GetString(15),
                StatusMessage = reader.IsDBNull(16) ? null : reader.GetString(16),
                LastError = reader.IsDBNull(17) ? null : reader.GetString(17),
                CheckpointSequence = reader.GetInt64(18),
                InputChecksum = reader.GetString(19),
                Settings = reader.GetString(20),
            });
        }

        return runs;
    }

    private void InsertEvent(SqliteTransaction transaction, RunId runId, DateTimeOffset time, RunEventKind kind, int attempt, string message)
    {
        var command = Cached(transaction, InsertEventSql);
        Bind(command, "$run_id", Key(runId));
        Bind(command, "$time", Ticks(time));
        Bind(command, "$kind", (int)kind);
        Bind(command, "$attempt", attempt);
        Bind(command, "$message", message);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static SqliteParameter Bind(SqliteCommand command, string name, object? value) =>
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);

    private static string Key(RunId runId) => runId.Value.ToString("N");

    private static RunId RunKey(string key) => new(Guid.ParseExact(key, "N"));

    private static long Ticks(DateTimeOffset time) => time.UtcTicks;

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    // Binds the caller's array without a copy when the memory covers all of it.
    private static byte[] Bytes(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();
}
