using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Sqlite;

/// <summary>
/// The embedded store: runs, checkpoints, events and the outbox in one SQLite file with a WAL journal. One engine works
/// on a file at a time (see <see cref="AcquireWorkerLockAsync"/>); other processes, such as the <c>cairn</c> tool, may
/// read and make operator changes while it runs.
/// </summary>
/// <remarks>
/// Writes run in <c>BEGIN IMMEDIATE</c> transactions, one at a time per store instance; writes of other processes, and
/// an open stage transaction (<see cref="BeginStageTransactionAsync"/>), are waited for up to
/// <see cref="SqliteStoreOptions.BusyTimeout"/>. Times are stored as UTC ticks.
/// </remarks>
public sealed partial class SqliteRunStore : RunStore, IRunQueries, IRunOperations, IOutboxStore, ITransactionalRunStore, IFlowCatalog
{
    private const string RunColumns =
        "run_id, flow_name, flow_version, recovery_id, status, attempt, retries_used, created_at, updated_at, due_at, " +
        "finished_at, owner, lease_epoch, lease_expires_at, position, last_recovery_point, status_message, last_error, " +
        "checkpoint_sequence, input_checksum, settings";

    private const string FenceCondition = "run_id = $run_id AND lease_epoch = $epoch AND status = 1";

    private const string InsertEventSql =
        "INSERT INTO events (run_id, time, kind, attempt, message, recovery_point) VALUES ($run_id, $time, $kind, $attempt, $message, $recovery_point)";

    private readonly string _path;
    private readonly string _connectionString;
    private readonly string _connectionPragmas;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TimeSpan _busyTimeout;
    private readonly bool _readOnly;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly GroupCommitQueue<IPendingWrite> _writes;
    private int _disposed;

    /// <summary>Creates a store over the file the options name. Call <see cref="InitializeAsync"/> before using it.</summary>
    /// <param name="options">The store's settings.</param>
    /// <param name="logger">Where the store logs schema changes and the worker lock, by convention created with the category <c>Cairn.Store.Sqlite</c> (as the engine does). Default: nowhere.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public SqliteRunStore(SqliteStoreOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _path = Path.GetFullPath(options.Path);
        _timeProvider = options.TimeProvider;
        _writes = new GroupCommitQueue<IPendingWrite>(options.MaxGroupCommitSize, Commit);
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _busyTimeout = options.BusyTimeout;
        _readOnly = options.ReadOnly;
        var busyMilliseconds = (int)Math.Ceiling(options.BusyTimeout.TotalMilliseconds);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = options.ReadOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
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

            var record = StoreRules.NewRunRecord(run, now);
            string? startedMessage = null;
            if (run.ClaimFor is { } claimFor)
            {
                startedMessage = StoreRules.StartedMessage(record, claimFor.Owner);
                record = StoreRules.Claimed(record, claimFor.Owner, now + claimFor.LeaseDuration, now);
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

            InsertEvent(transaction, run.Id, now, RunEventKind.Created, 0, StoreRules.CreatedMessage(run.RecoveryId));
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
                "SELECT sequence, position, recovery_point, status_message, checksum, created_at, state, compensation, streams FROM checkpoints " +
                "WHERE run_id = $run_id ORDER BY sequence DESC LIMIT 1"))
            {
                Bind(command, "$run_id", Key(runId));
                using var reader = command.ExecuteReader();
                if (reader.Read())
                {
                    checkpoint = new Checkpoint(
                        reader.GetInt64(0),
                        FlowPath.Parse(reader.GetString(1)),
                        reader.GetString(2),
                        reader.IsDBNull(3) ? null : reader.GetString(3),
                        reader.GetFieldValue<byte[]>(6),
                        reader.GetString(4))
                    {
                        CreatedAt = Time(reader.GetInt64(5)),
                        Compensation = reader.IsDBNull(7) ? null : reader.GetString(7),
                        Streams = StreamManifest.Parse(reader.IsDBNull(8) ? null : reader.GetString(8)),
                    };
                }
            }

            transaction.Commit();
            return new RecoveryData(input, checkpoint);
        }, cancellationToken);

    /// <inheritdoc />
    public override Task SaveCheckpointAsync(RunLease lease, Checkpoint checkpoint, int keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        return WriteAsync((connection, transaction, now) =>
        {
            WriteCheckpoint(transaction, lease, checkpoint, keep, now);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// The statements of a checkpoint, fenced: the run moves to it, it is stored (older ones beyond <paramref name="keep"/>
    /// pruned), its outbox messages are added and the event is recorded. Runs on the writer inside the write lock, in a
    /// group commit's transaction or in a stage transaction (<see cref="BeginStageTransactionAsync"/>).
    /// </summary>
    /// <exception cref="RunOwnershipLostException">The lease no longer holds; nothing was written.</exception>
    private void WriteCheckpoint(SqliteTransaction transaction, RunLease lease, Checkpoint checkpoint, int keep, DateTimeOffset now)
    {
        var attempt = UpdateFenced(transaction, lease,
            "position = $position, last_recovery_point = $recovery_point, status_message = $status_message, " +
            "checkpoint_sequence = $sequence, updated_at = $now",
            command => BindCheckpoint(command, checkpoint, now));

        {
            var insert = Cached(transaction,
            "INSERT INTO checkpoints (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state, compensation, streams) " +
            "VALUES ($run_id, $sequence, $position, $recovery_point, $status_message, $checksum, $now, $state, $compensation, $streams) " +
            "ON CONFLICT (run_id, sequence) DO UPDATE SET position = excluded.position, recovery_point = excluded.recovery_point, " +
            "status_message = excluded.status_message, checksum = excluded.checksum, created_at = excluded.created_at, state = excluded.state, " +
            "compensation = excluded.compensation, streams = excluded.streams");
            BindCheckpoint(insert, checkpoint, now);
            Bind(insert, "$run_id", Key(lease.RunId));
            Bind(insert, "$checksum", checkpoint.Checksum);
            Bind(insert, "$state", Bytes(checkpoint.State));
            Bind(insert, "$compensation", checkpoint.Compensation);
            Bind(insert, "$streams", StreamManifest.ToText(checkpoint.Streams));
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

        InsertOutbox(transaction, checkpoint.Outbox, now);
        TakeSignal(transaction, lease, checkpoint);
        InsertEvent(transaction, lease.RunId, now, RunEventKind.RecoveryPointPassed, attempt,
            StoreRules.RecoveryPointPassedMessage(checkpoint), checkpoint.RecoveryPoint);
    }

    // What both the run's move to the checkpoint and the checkpoint's row say of it.
    private static void BindCheckpoint(SqliteCommand command, Checkpoint checkpoint, DateTimeOffset now)
    {
        Bind(command, "$position", checkpoint.Position.ToString());
        Bind(command, "$recovery_point", checkpoint.RecoveryPoint);
        Bind(command, "$status_message", checkpoint.StatusMessage);
        Bind(command, "$sequence", checkpoint.Sequence);
        Bind(command, "$now", Ticks(now));
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
    public override Task CompleteRunAsync(
        RunLease lease, ReadOnlyMemory<byte> result, string message, IReadOnlyList<OutboxMessage> outbox, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(outbox);
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

            InsertOutbox(transaction, outbox, now);
            InsertEvent(transaction, lease.RunId, now, RunEventKind.Completed, attempt, message);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Let a batch being committed (or an open stage transaction) finish; writes queued behind it fail with
            // ObjectDisposedException.
            await _writeLock.WaitAsync().ConfigureAwait(false);
            // Pooled connections keep the file open; close them so that the file can be moved or deleted.
            using (var connection = new SqliteConnection(_connectionString))
            {
                SqliteConnection.ClearPool(connection);
            }

            CloseWriter();
            _writeLock.Dispose();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Where the store is, for messages: the SQLite database and its file.</summary>
    public override string ToString() => $"the SQLite database '{_path}'";

    /// <summary>Opens a pooled connection with the store's per-connection settings. Internal for tests.</summary>
    internal SqliteConnection OpenConnection() => OpenConnection(forWrites: true);

    // Reads skip the per-connection pragmas: durability does not concern them, and Microsoft.Data.Sqlite retries a
    // busy read until the command timeout.
    private SqliteConnection OpenConnection(bool forWrites)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return SqliteConnections.Open(_connectionString, forWrites ? _connectionPragmas : null);
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
    // Binds the caller's array without a copy when the memory covers all of it.
    private static byte[] Bytes(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();
}
