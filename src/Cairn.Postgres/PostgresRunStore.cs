using Cairn.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Cairn.Postgres;

/// <summary>
/// The multi-node store: several engines share one PostgreSQL database. Runs are claimed with
/// <c>FOR UPDATE SKIP LOCKED</c>, owned under a lease the engine's heartbeat renews, and every write of a running run is
/// fenced by the run's lease epoch, which every claim increases. A node that dies loses its leases, and another node
/// resumes its runs from their last checkpoints.
/// </summary>
/// <remarks>
/// <para>
/// Every time the store records or compares is the database's clock (<c>now()</c>): lease expiry, due times of retries,
/// event times, so nodes with skewed clocks agree on leases; the engine's <see cref="TimeProvider"/> drives only the store's
/// timers (<see cref="PostgresStoreOptions.TimeProvider"/>).
/// </para>
/// <para>
/// Each write is one SQL statement and one round trip. Concurrent writes of many runs are committed together (group
/// commit, see <see cref="PostgresStoreOptions.MaxGroupCommitSize"/>): one round trip and one WAL flush for the whole
/// group, each write in its own savepoint so that one failing write is rolled back alone.
/// </para>
/// <para>
/// Runs of a dead node are found by their expired leases, or at once by the next process that starts under the dead
/// node's name: the worker lock (<see cref="AcquireWorkerLockAsync"/>) covers one node name.
/// </para>
/// <para>
/// Runs' named streams are kept in the database too (<see cref="IStreamStore"/>, in chunks of 1 MiB written and read
/// one at a time), unless the engine is given another stream store such as a storage folder.
/// </para>
/// </remarks>
public sealed partial class PostgresRunStore : RunStore, IRunQueries, IRunOperations, IOutboxStore, ITransactionalRunStore, IFlowCatalog
{
    /// <summary>How many statements each connection keeps prepared unless the connection string says otherwise.</summary>
    internal const int AutoPreparedStatements = 32;

    /// <summary>How many connections each store opens at most unless the connection string says otherwise.</summary>
    internal const int DefaultMaxPoolSize = 20;

    private readonly bool _readOnly;

    private static readonly int[] RerunnableStatuses = StatusesAllowedBy(StoreRules.EnsureCanRerun);
    private static readonly int[] CancellableStatuses = StatusesAllowedBy(StoreRules.EnsureCanCancel);
    private static readonly int[] CompensatableStatuses = StatusesAllowedBy(StoreRules.EnsureCanCompensate);
    private static readonly int RunColumnCount = PostgresSql.RunColumnList.Split(", ").Length;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgresSql _sql;
    private readonly Func<DateTimeOffset>? _testClock;
    private readonly ILogger _logger;
    private readonly string _database;
    private readonly int _maxGroupCommitSize;
    private readonly GroupCommitQueue<IPendingWrite> _writes;
    private int _disposed;
    private readonly int _groupCommitWriters;

    /// <summary>Creates a store over the database the options name. Call <see cref="InitializeAsync"/> before using it.</summary>
    /// <param name="options">The store's settings.</param>
    /// <param name="logger">Where the store logs schema changes and lost connections, by convention created with the category <c>Cairn.Store.Postgres</c> (as the engine does). Default: nowhere.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public PostgresRunStore(PostgresStoreOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.DataSource is { } dataSource)
        {
            _dataSource = dataSource;
        }
        else
        {
            var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
            var settings = builder.ConnectionStringBuilder;

            // The same dozen statements run all day: prepared once per connection, they skip parsing and planning.
            // Left as the caller says when the connection string mentions it (0 turns it off, for example for a pooler).
            var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = options.ConnectionString };
            if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
            {
                settings.MaxAutoPrepare = AutoPreparedStatements;
            }

            // One writer at a time and short reads need few connections; Npgsql's default of 100 per node would let two
            // busy nodes exhaust a server's default max_connections (100). Callers queue for a free connection instead.
            if (!given.ContainsKey("Maximum Pool Size") && !given.ContainsKey("Max Pool Size") && !given.ContainsKey("MaxPoolSize"))
            {
                settings.MaxPoolSize = DefaultMaxPoolSize;
            }

            settings.ApplicationName ??= "cairn";
            if (options.ReadOnly)
            {
                settings.Options = $"{settings.Options} -c default_transaction_read_only=on".Trim();
            }

            _dataSource = builder.Build();
            _ownsDataSource = true;
        }

        var connection = new NpgsqlConnectionStringBuilder(_dataSource.ConnectionString);
        _database = $"the PostgreSQL database '{connection.Database ?? connection.Username}' on {connection.Host}:{connection.Port}";
        _readOnly = options.ReadOnly;
        _testClock = options.TestClock;
        _timeProvider = options.TimeProvider;
        _sql = new PostgresSql(options.Schema, _testClock is null ? "now()" : "@now");
        _maxGroupCommitSize = options.MaxGroupCommitSize;
        _groupCommitWriters = options.GroupCommitWriters;
        _writeLock = new SemaphoreSlim(options.GroupCommitWriters, options.GroupCommitWriters);
        _writes = new GroupCommitQueue<IPendingWrite>(_maxGroupCommitSize, options.GroupCommitWriters, batch => new ValueTask(CommitAsync(batch, exclusive: true)));
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc />
    public override async Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        for (var tries = 1; ; tries++)
        {
            var result = await WriteAsync(
                _sql.CreateRun,
                parameters =>
                {
                    Add(parameters, "run_id", run.Id.Value);
                    Add(parameters, "flow_name", run.FlowName);
                    Add(parameters, "flow_version", run.FlowVersion);
                    Add(parameters, "recovery_id", run.RecoveryId);
                    Add(parameters, "input_checksum", run.InputChecksum);
                    Add(parameters, "settings", run.Settings);
                    Add(parameters, "input", run.Input);
                    Add(parameters, "message", StoreRules.CreatedMessage(run.RecoveryId));
                    Add(parameters, "owner", run.ClaimFor?.Owner);
                    Add(parameters, "started_format", PostgresSql.StartedFormat);
                    Add(parameters, "lease_us", Microseconds(run.ClaimFor?.LeaseDuration ?? TimeSpan.Zero));
                },
                async reader =>
                {
                    if (!await reader.ReadAsync().ConfigureAwait(false))
                    {
                        return null;
                    }

                    var created = reader.GetBoolean(0);
                    var record = ReadRun(reader, first: 1);
                    var lease = created && run.ClaimFor is { } claim ? new RunLease(run.Id, claim.Owner, record.LeaseEpoch) : null;
                    return new CreateRunResult(record, created, lease);
                },
                cancellationToken).ConfigureAwait(false);
            if (result is not null)
            {
                return result;
            }

            // Another node created the run after this statement's snapshot was taken, so the statement neither inserted
            // it nor saw it: a new statement does.
            Log.Postgres.CreateRunRaced(_logger, run.FlowName, run.RecoveryId);
            if (await FindRunAsync(run.FlowName, run.RecoveryId, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                return new CreateRunResult(existing, Created: false);
            }

            if (tries == 3)
            {
                throw new InvalidOperationException(
                    $"Run '{run.RecoveryId}' of flow '{run.FlowName}' could be neither created nor found: another node keeps creating and purging it.");
            }
        }
    }

    /// <inheritdoc />
    public override Task<RunRecord?> GetRunAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync(
            _sql.GetRun,
            parameters => Add(parameters, "run_id", runId.Value),
            async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadRun(reader) : null,
            cancellationToken);

    /// <inheritdoc />
    public override Task<RecoveryData> GetRecoveryDataAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync(
            _sql.GetRecoveryData,
            parameters => Add(parameters, "run_id", runId.Value),
            async (reader, ct) =>
            {
                if (!await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    throw new RunNotFoundException(runId);
                }

                var input = reader.IsDBNull(0) ? null : (ReadOnlyMemory<byte>?)reader.GetFieldValue<byte[]>(0);
                var checkpoint = reader.IsDBNull(1)
                    ? null
                    : new Checkpoint(
                        reader.GetInt64(1),
                        FlowPath.Parse(reader.GetString(2)),
                        reader.GetString(3),
                        NullableString(reader, 4),
                        reader.GetFieldValue<byte[]>(7),
                        reader.GetString(5))
                    {
                        CreatedAt = Time(reader, 6),
                        Compensation = NullableString(reader, 8),
                        Streams = StreamManifest.Parse(NullableString(reader, 9)),
                    };
                return new RecoveryData(input, checkpoint);
            },
            cancellationToken);

    /// <inheritdoc />
    public override Task<IReadOnlyList<ClaimedRun>> ClaimDueRunsAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MaxRuns <= 0 || request.FlowNames.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<ClaimedRun>>([]);
        }

        return WriteAsync<IReadOnlyList<ClaimedRun>>(
            _sql.ClaimDueRuns,
            parameters =>
            {
                Add(parameters, "flow_names", request.FlowNames.ToArray());
                Add(parameters, "resume_interrupted", request.ResumeInterrupted);
                Add(parameters, "max_runs", request.MaxRuns);
                Add(parameters, "owner", request.Owner);
                Add(parameters, "lease_us", Microseconds(request.LeaseDuration));
                Add(parameters, "started_format", PostgresSql.StartedFormat);
                Add(parameters, "resumed_format", PostgresSql.ResumedFormat);
            },
            async reader =>
            {
                var claimed = new List<ClaimedRun>();
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    var run = ReadRun(reader);
                    claimed.Add(new ClaimedRun(run, new RunLease(run.Id, request.Owner, run.LeaseEpoch)));
                }

                return claimed;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public override Task<int> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        WriteAsync(
            _sql.RenewLeases,
            parameters =>
            {
                Add(parameters, "owner", owner);
                Add(parameters, "lease_us", Microseconds(leaseDuration));
            },
            ReadCountAsync,
            cancellationToken);

    /// <inheritdoc />
    public override Task SaveCheckpointAsync(RunLease lease, Checkpoint checkpoint, int keep, CancellationToken cancellationToken)
    {
        var (sql, bind) = CheckpointWrite(lease, checkpoint, keep);
        return WriteAsync(sql, bind, reader => ReadFencedAsync(reader, lease), cancellationToken);
    }

    /// <summary>
    /// The statement that saves a checkpoint, fenced, with its outbox messages, and its parameters: for
    /// <see cref="SaveCheckpointAsync"/> in group commit and for a stage transaction's commit alike.
    /// </summary>
    private (string Sql, Action<NpgsqlParameterCollection> Bind) CheckpointWrite(RunLease lease, Checkpoint checkpoint, int keep)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        var outbox = checkpoint.Outbox;
        return (
            checkpoint.TakesSignal is not null ? _sql.SaveCheckpointTakingSignal : outbox.Count == 0 ? _sql.SaveCheckpoint : _sql.SaveCheckpointWithOutbox,
            parameters =>
            {
                AddFence(parameters, lease);
                Add(parameters, "sequence", checkpoint.Sequence);
                Add(parameters, "position", checkpoint.Position.ToString());
                Add(parameters, "recovery_point", checkpoint.RecoveryPoint);
                Add(parameters, "status_message", checkpoint.StatusMessage);
                Add(parameters, "checksum", checkpoint.Checksum);
                Add(parameters, "state", checkpoint.State);
                Add(parameters, "compensation", checkpoint.Compensation);
                Add(parameters, "streams", StreamManifest.ToText(checkpoint.Streams));
                Add(parameters, "keep", keep);
                Add(parameters, "message", StoreRules.RecoveryPointPassedMessage(checkpoint));
                AddOutbox(parameters, outbox, always: checkpoint.TakesSignal is not null);
                if (checkpoint.TakesSignal is { } signal)
                {
                    Add(parameters, "takes_signal", signal);
                }
            });
    }

    /// <inheritdoc />
    public override Task TransitionAsync(RunLease lease, RunTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(transition);
        return WriteAsync(
            _sql.Transition,
            parameters =>
            {
                AddFence(parameters, lease);
                Add(parameters, "status", (int)transition.Status);
                Add(parameters, "last_error", transition.LastError);
                parameters.Add(new NpgsqlParameter("retry_after_us", NpgsqlDbType.Bigint)
                {
                    Value = transition.RetryAfter is { } after ? Microseconds(after) : DBNull.Value,
                });
                Add(parameters, "claimable", StoreRules.IsClaimable(transition.Status));
                Add(parameters, "retry", transition.CountsAsRetry ? 1 : 0);
                Add(parameters, "finished", transition.Status.IsFinished());
                Add(parameters, "kind", (int)transition.EventKind);
                Add(parameters, "message", transition.Message);
            },
            reader => ReadFencedAsync(reader, lease),
            cancellationToken);
    }

    /// <inheritdoc />
    public override Task CompleteRunAsync(
        RunLease lease, ReadOnlyMemory<byte> result, string message, IReadOnlyList<OutboxMessage> outbox, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(outbox);
        return WriteAsync(
            outbox.Count == 0 ? _sql.CompleteRun : _sql.CompleteRunWithOutbox,
            parameters =>
            {
                AddFence(parameters, lease);
                Add(parameters, "result", result);
                Add(parameters, "message", message);
                AddOutbox(parameters, outbox);
            },
            reader => ReadFencedAsync(reader, lease),
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Several engines share a PostgreSQL database: runs of other nodes are found by their expired leases. At start the
    /// engine passes <paramref name="exclusive"/> = true while it holds its node name's lock, and then every running run
    /// of <paramref name="owner"/> is interrupted at once (an earlier process of the name is gone).
    /// </remarks>
    public override Task<int> InterruptAbandonedRunsAsync(string owner, bool exclusive, TimeSpan resumeAfter, CancellationToken cancellationToken) =>
        WriteAsync(
            _sql.InterruptAbandonedRuns,
            parameters =>
            {
                Add(parameters, "owner", owner);
                Add(parameters, "exclusive", exclusive);
                Add(parameters, "resume_after_us", Microseconds(resumeAfter));
                Add(parameters, "gone_format", PostgresSql.GoneFormat);
            },
            ReadCountAsync,
            cancellationToken);

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Let the batches being committed finish; writes queued behind them fail with ObjectDisposedException.
            for (var i = 0; i < _groupCommitWriters; i++)
            {
                await _writeLock.WaitAsync().ConfigureAwait(false);
            }

            _writeLock.Release(_groupCommitWriters);
            CloseWriterConnections();
            if (_ownsDataSource)
            {
                await _dataSource.DisposeAsync().ConfigureAwait(false);
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The data source the store uses. For tests.</summary>
    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>The schema that holds the store's tables. For tests.</summary>
    internal string Schema => _sql.Schema;

    /// <summary>Where the store is, for messages: the PostgreSQL database, its server and the schema.</summary>
    public override string ToString() => $"{_database}, schema '{Schema}'";

    // A read on a pooled connection, outside group commit: one statement, one round trip.
    // The result of a fenced write: the run's attempt, or no row when the fence did not hold (and nothing changed).
    // The result of an operator action: no row when the run does not exist; its status and, when the status allowed the
    // action, the changed run.
    // The statuses the base class's check allows, asked of it once, so that the SQL condition cannot drift from it.
    private static long Microseconds(TimeSpan duration) => duration.Ticks / TimeSpan.TicksPerMicrosecond;
}
