using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Cairn.Storage;
using Microsoft.Extensions.Logging;

namespace Cairn;

/// <summary>
/// Runs flows durably: creates runs, executes their stages, saves a checkpoint at every recovery point, and resumes
/// failed or interrupted runs from their last one. Build it with <see cref="CreateBuilder"/>; thread-safe.
/// </summary>
public sealed partial class CairnEngine : IAsyncDisposable
{
    private readonly CairnOptions _options;
    private readonly ConcurrentDictionary<string, FlowVersions> _flows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<RunId, CancellationTokenSource> _active = new();
    private readonly ConcurrentDictionary<RunId, TaskCompletionSource<CompletedHere?>> _changes = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopClaiming = new();
    private readonly CancellationTokenSource _abortRuns = new();
    private readonly CancellationTokenSource _stopDispatching = new();
    private readonly ILogger _logger;
    private readonly IRunQueries _queries;
    private readonly IRunOperations _operations;
    private readonly bool _ownsStore;
    private Task _background = Task.CompletedTask;
    private TaskCompletionSource _runFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StoreAttachment? _attachment;
    private OutboxDispatcher? _dispatcher;
    private int _state; // 0 new, 1 started, 2 stopped
    private int _disposed;

    internal CairnEngine(CairnOptions options, RunStore store, bool ownsStore, IEnumerable<FlowDefinition> flows, ILoggerFactory loggerFactory, TimeProvider timeProvider, CairnMetrics metrics,
        IStreamStore? streams = null)
    {
        _options = options;
        Store = store;
        _ownsStore = ownsStore;
        TimeProvider = timeProvider;
        Codec = new StateCodec(options.Serializer, options.MaxStateSize, options.Protection);
        // First: it refuses a store without the operator contracts with a clear message.
        Operator = new RunOperator(store, new RunOperatorOptions
        {
            TimeProvider = timeProvider,
            PollInterval = options.PollInterval,
            MaxStateSize = options.MaxStateSize,
            Serializer = options.Serializer,
            Protection = options.Protection,
            Streams = streams,
        }, this);
        _queries = (IRunQueries)store;
        _operations = (IRunOperations)store;
        _logger = loggerFactory.CreateLogger(Log.Category);
        _slots = new SemaphoreSlim(options.MaxConcurrentRuns, options.MaxConcurrentRuns);
        NodeName = options.NodeName ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
        Execution = new EngineContext(store, Codec, timeProvider, _logger, options, NodeName, this) { Metrics = metrics, Streams = streams };
        foreach (var flow in flows)
        {
            Register(flow);
        }
    }

    /// <summary>Starts building an engine.</summary>
    public static CairnEngineBuilder CreateBuilder() => new();

    /// <summary>The store the engine works on.</summary>
    public RunStore Store { get; }

    /// <summary>This engine's node name, recorded as the owner of the runs it executes.</summary>
    public string NodeName { get; }

    /// <summary>The flows this engine can execute.</summary>
    /// <remarks>Several versions of a flow may be registered side by side: each run resumes on the version it started
    /// on when it is registered, else on the newest one.</remarks>
    public IReadOnlyCollection<FlowDefinition> Flows => [.. _flows.Values.SelectMany(v => v.All)];

    internal TimeProvider TimeProvider { get; }

    internal CairnOptions Options => _options;

    internal ILogger Logger => _logger;

    internal StateSerializer Serializer => Codec.Serializer;

    internal StateCodec Codec { get; }

    internal bool IsStopping => _stopClaiming.IsCancellationRequested;

    bool IRunHost.IsStopping => IsStopping;

    bool IRunHost.IsAborting => _abortRuns.IsCancellationRequested;

    void IRunHost.Wake() => Wake();

    void IRunHost.NotifyCompleted(RunRecord run, byte[] result) => NotifyCompleted(run, result);

    void IRunHost.OutboxCommitted() => _dispatcher?.Wake();

    /// <summary>The outbox publishers by destination, from the builder.</summary>
    internal IReadOnlyDictionary<string, IOutboxPublisher> Publishers { get; init; } = new Dictionary<string, IOutboxPublisher>();

    /// <summary>What the execution of attempts needs of this engine.</summary>
    internal EngineContext Execution { get; }

    /// <summary>
    /// Initializes the store, takes its worker lock where it has one, marks runs left running by a dead engine as
    /// interrupted, subscribes to the store's wake-ups where it has them, and starts executing due runs in the background.
    /// Called by the first run if not before.
    /// </summary>
    /// <exception cref="StoreUnavailableException">The store is locked by another engine or cannot be used.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        await _startLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_state == 2, this);
            if (_state == 1)
            {
                return;
            }

            await Store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            if (Publishers.Count > 0 && Store is IOutboxStore outbox)
            {
                _dispatcher = new OutboxDispatcher(outbox, Publishers, _options, NodeName, TimeProvider, _logger, Execution.Metrics);
            }

            _attachment = await Store.AttachAsync(NodeName, WakeAll, cancellationToken).ConfigureAwait(false);
            var resumeAfter = _options.ResumeInterruptedRuns == InterruptedRunResume.AfterRetryInterval
                ? _options.DefaultRetryPolicy.Interval
                : TimeSpan.Zero;
            var interrupted = await Store.InterruptAbandonedRunsAsync(NodeName, _attachment.HoldsWorkerLock, resumeAfter, cancellationToken).ConfigureAwait(false);
            await WarnAboutUnknownFlowsAsync(cancellationToken).ConfigureAwait(false);
            await RecordFlowsAsync(cancellationToken).ConfigureAwait(false);
            await ReconcileSchedulesAsync(cancellationToken).ConfigureAwait(false);
            if (_options.RecoverInterruptedRuns)
            {
                Log.EngineStarted(_logger, NodeName, _flows.Count, interrupted);
            }
            else
            {
                var left = await Execution.Queries.CountRunsAsync(new RunQuery { Statuses = [RunStatus.Interrupted] }, cancellationToken).ConfigureAwait(false);
                Log.EngineStartedWithoutRecovery(_logger, NodeName, _flows.Count, left.Values.Sum());
            }
            MarkWorkerLoop();
            Execution.Metrics.Report(this);

            // The loops outlive the call that started them: they must not carry its trace into every attempt and delivery.
            Activity.Current = null;
            _background = Task.WhenAll(
                Task.Run(() => ClaimLoopAsync(_stopClaiming.Token), CancellationToken.None),
                Task.Run(() => HeartbeatLoopAsync(_stopClaiming.Token), CancellationToken.None),
                Task.Run(() => PurgeLoopAsync(_stopClaiming.Token), CancellationToken.None),
                Task.Run(() => ScheduleLoopAsync(_stopClaiming.Token), CancellationToken.None),
                _dispatcher is null ? Task.CompletedTask : Task.Run(() => _dispatcher.RunAsync(_stopDispatching.Token), CancellationToken.None));
            _state = 1;
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <summary>
    /// Stops gracefully: claims no more runs, lets running stages finish up to <see cref="CairnOptions.ShutdownTimeout"/>,
    /// then cancels them. Every unfinished run stays resumable from its last recovery point.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _startLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_state != 1)
            {
                _state = 2;
                return;
            }

            Log.EngineStopping(_logger, NodeName, _options.ShutdownTimeout, _active.Count);
            await _stopClaiming.CancelAsync().ConfigureAwait(false);
            if (_attachment is not null)
            {
                await _attachment.StopWakeUpsAsync().ConfigureAwait(false);
            }

            var drained = await WaitForActiveRunsAsync(_options.ShutdownTimeout, cancellationToken).ConfigureAwait(false);
            if (!drained)
            {
                Log.ShutdownTimeoutReached(_logger, _active.Count);
                await _abortRuns.CancelAsync().ConfigureAwait(false);
                await WaitForActiveRunsAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            }

            // The dispatcher stops last: what the runs committed while they drained still goes out.
            await _stopDispatching.CancelAsync().ConfigureAwait(false);
            await _background.ConfigureAwait(false);
            Execution.Metrics.StopReporting(this);
            if (_attachment is not null)
            {
                await _attachment.DisposeAsync().ConfigureAwait(false);
                _attachment = null;
            }

            _state = 2;
            Log.EngineStopped(_logger, NodeName);
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <summary>A wake-up from the store: due runs or committed outbox messages may be waiting.</summary>
    private void WakeAll()
    {
        Wake();
        _dispatcher?.Wake();
    }

    /// <summary>Stops the engine (see <see cref="StopAsync"/>) and disposes the store if the engine created it.</summary>
    public async ValueTask DisposeAsync()
    {
        // A second dispose finds the locks already disposed; it has nothing left to do.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        if (_ownsStore)
        {
            await Store.DisposeAsync().ConfigureAwait(false);
        }

        _stopClaiming.Dispose();
        _abortRuns.Dispose();
        _stopDispatching.Dispose();
        _startLock.Dispose();
        _slots.Dispose();
    }

    /// <summary>
    /// Starts a run, or finds the run that already has this recovery ID, and returns it without waiting.
    /// An unfinished run with the same recovery ID (failed, waiting, interrupted) is asked to run again at once.
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="input">The input state.</param>
    /// <param name="recoveryId">The caller's idempotency key. Default: a new one, equal to the run ID.</param>
    /// <param name="cancellationToken">Cancels the call, not the run.</param>
    /// <exception cref="RecoveryIdConflictException">The recovery ID belongs to a run of this flow with a different input.</exception>
    /// <exception cref="StateSerializationException">The input cannot be serialized.</exception>
    public async Task<RunInfo> StartRunAsync<TState>(Flow<TState> flow, TState input, string? recoveryId = null, CancellationToken cancellationToken = default) =>
        RunInfo.From((await StartRunCoreAsync(flow, input, recoveryId, RunId.New(), cancellationToken).ConfigureAwait(false)).Run);

    /// <summary>
    /// Starts a run with the given ID. With a free slot, the run is created already claimed by this engine and executed at
    /// once, without a claim or a read of its input; otherwise the claim loop (of this or another node) takes it.
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="input">The input.</param>
    /// <param name="recoveryId">The recovery ID; null for the run ID.</param>
    /// <param name="id">The new run's ID.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="parent">The parent run of a detached sub-flow's child.</param>
    /// <param name="rerunFailed">Whether a failed run found with the recovery ID is re-run (false for a schedule's slot: started once).</param>
    private async Task<(RunRecord Run, bool Created)> StartRunCoreAsync<TState>(
        Flow<TState> flow, TState input, string? recoveryId, RunId id, CancellationToken cancellationToken, RunId? parent = null, bool rerunFailed = true)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (recoveryId is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(recoveryId);
        }

        Register(flow);
        await StartAsync(cancellationToken).ConfigureAwait(false);

        using var activity = Telemetry.StartRunStartActivity(flow.Name, id);
        var inputBytes = SerializeState(input, $"Flow '{flow}' cannot start: its input", "");
        var checksum = StateCodec.Checksum(inputBytes);
        var (traceParent, traceState) = Telemetry.CaptureTraceContext();
        var settings = new RunSettings(flow.RetryPolicy ?? _options.DefaultRetryPolicy, flow.Fingerprint, parent?.ToString(), traceParent, traceState).ToJson();
        var newRun = new NewRun(id, flow.Name, flow.Version, recoveryId ?? id.ToString(), inputBytes, checksum, settings);
        var attempt = ReserveSlotForNewRun(id);
        CreateRunResult created;
        try
        {
            created = await Store.CreateRunAsync(
                attempt is null ? newRun : newRun with { ClaimFor = new NewRunClaim(NodeName, _options.LeaseDuration) },
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ReleaseReservedSlot(id, attempt);
            throw;
        }

        var run = created.Run;
        if (created.Created)
        {
            Execution.Metrics.RunStarted(flow.Name);
        }
        else
        {
            activity?.SetTag(Telemetry.RunIdTag, run.Id.ToString());
        }

        if (created.Lease is { } lease && attempt is not null)
        {
            _ = Task.Run(() => ExecuteClaimedAsync(new ClaimedRun(run, lease), attempt, inputBytes), CancellationToken.None);
            return (run, true);
        }

        ReleaseReservedSlot(id, attempt);
        if (created.Created)
        {
            Wake();
            return (run, true);
        }

        if (run.InputChecksum != checksum)
        {
            throw new RecoveryIdConflictException(flow.Name, run.RecoveryId, run.Id);
        }

        if (rerunFailed && run.Status is RunStatus.Failed or RunStatus.WaitingForRetry or RunStatus.Interrupted)
        {
            try
            {
                run = await _operations.RequestRerunAsync(run.Id, $"started again with recovery ID '{run.RecoveryId}'", cancellationToken).ConfigureAwait(false);
                Wake();
            }
            catch (InvalidRunStateException)
            {
                // Claimed in the meantime (an interrupted run resumes by itself): it is under way, which is what was asked.
                run = await Store.GetRunAsync(run.Id, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(run.Id);
            }
        }

        return (run, false);
    }

    /// <summary>
    /// Runs a flow to its end and returns the outcome: starts a run (see <see cref="StartRunAsync{TState}"/>) and waits
    /// through its retries until it completes, fails or is cancelled. With the recovery ID of a completed run, returns
    /// its stored result without running anything.
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="input">The input state.</param>
    /// <param name="recoveryId">The caller's idempotency key. Default: a new one.</param>
    /// <param name="cancellationToken">Stops waiting; the run goes on in the engine.</param>
    public async Task<RunOutcome<TState>> RunAsync<TState>(Flow<TState> flow, TState input, string? recoveryId = null, CancellationToken cancellationToken = default)
    {
        // Listen for the new run's end before it can start: a run created now is waited for without reading the store
        // first, and one completed in this engine hands its result over without a read either.
        var id = RunId.New();
        var completion = _changes.GetOrAdd(id, _ => NewChangeSignal());
        RunRecord run;
        bool created;
        try
        {
            (run, created) = await StartRunCoreAsync(flow, input, recoveryId, id, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _changes.TryRemove(new KeyValuePair<RunId, TaskCompletionSource<CompletedHere?>>(id, completion));
            throw;
        }

        if (run.Id != id)
        {
            _changes.TryRemove(new KeyValuePair<RunId, TaskCompletionSource<CompletedHere?>>(id, completion));
        }

        var wasCompleted = run.Status == RunStatus.Completed;
        return await WaitForRunAsync(flow, run.Id, wasCompleted, created && run.Id == id ? completion : null, cancellationToken).ConfigureAwait(false);
    }

}
