using System.Globalization;
using System.Reflection;

namespace Cairn.Runs;

/// <summary>
/// The operator API: what people and tools (the <c>cairn</c> tool, a web console) read and do, over a store alone —
/// without the flows' code. Lists runs with filters and cursor paging; shows one run, its events, its kept checkpoints,
/// its latest state and its result; re-runs a run (from its last or an earlier recovery point, optionally with an
/// edited state), cancels it, purges finished runs, and waits for a run by its ID. Thread-safe.
/// </summary>
/// <remarks>
/// Build one with <see cref="Create"/> from a store, or use <see cref="CairnEngine.Operator"/>: an engine's operator
/// also checks an edited state against the run's flow, cancels a stage that runs in the engine, and sees the engine's
/// own changes without polling.
/// </remarks>
public sealed partial class RunOperator
{
    private static readonly MethodInfo ReadAsMethod = typeof(RunOperator).GetMethod(nameof(ReadAs), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly RunStore _store;
    private readonly IRunQueries _queries;
    private readonly IRunOperations _operations;
    private readonly RunOperatorOptions _options;
    private readonly IRunOperatorHost? _host;
    private readonly StateCodec _codec;
    private readonly IStreamStore? _streams;

    internal RunOperator(RunStore store, RunOperatorOptions options, IRunOperatorHost? host)
    {
        _store = store;
        _queries = store as IRunQueries ?? throw NotAnOperatorStore(store, nameof(IRunQueries));
        _operations = store as IRunOperations ?? throw NotAnOperatorStore(store, nameof(IRunOperations));
        _options = options;
        _host = host;
        _codec = new StateCodec(options.Serializer, options.MaxStateSize, options.Protection);
        _streams = options.Streams ?? store as IStreamStore;
    }

    /// <summary>Creates an operator API over a store; the store must implement <see cref="IRunQueries"/> and <see cref="IRunOperations"/>.</summary>
    /// <param name="store">The store. The operator does not initialize it (reading an empty file creates nothing) and does not dispose it.</param>
    /// <param name="options">Clock, poll interval and state limit. Default: <see cref="RunOperatorOptions"/>'s defaults.</param>
    /// <exception cref="ArgumentException">The store lacks the operator contracts, or the options are invalid.</exception>
    public static RunOperator Create(RunStore store, RunOperatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new RunOperatorOptions();
        options.Validate();
        return new RunOperator(store, options, host: null);
    }

    /// <summary>Lists one page of runs that match the query, newest first; the page's cursor leads to the next.</summary>
    /// <exception cref="ArgumentException">The query's limit is not between 1 and 10,000.</exception>
    public async Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > 10_000)
        {
            throw new ArgumentException($"The limit of a page of runs must be between 1 and 10,000, not {query.Limit}.", nameof(query));
        }

        // One more than the page tells whether a next page exists.
        var runs = await _queries.ListRunsAsync(query with { Limit = query.Limit + 1 }, cancellationToken).ConfigureAwait(false);
        var page = runs.Take(query.Limit).Select(RunInfo.From).ToList();
        return new RunPage(page, runs.Count > query.Limit ? RunCursor.After(runs[query.Limit - 1]) : null);
    }

    /// <summary>Gets a run, or null when it does not exist.</summary>
    public async Task<RunInfo?> GetRunAsync(RunId runId, CancellationToken cancellationToken = default) =>
        await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) is { } run ? RunInfo.From(run) : null;

    /// <summary>Gets the run of a flow with a recovery ID, or null.</summary>
    public async Task<RunInfo?> FindRunAsync(string flowName, string recoveryId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(flowName);
        ArgumentException.ThrowIfNullOrEmpty(recoveryId);
        return await _queries.FindRunAsync(flowName, recoveryId, cancellationToken).ConfigureAwait(false) is { } run ? RunInfo.From(run) : null;
    }

    /// <summary>Gets a run's events, oldest first; empty when the run does not exist.</summary>
    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken = default) =>
        _queries.GetEventsAsync(runId, cancellationToken);

    /// <summary>Gets a run's kept checkpoints, newest first, without their states: the points it can be re-run from.</summary>
    public Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken = default) =>
        _queries.GetCheckpointsAsync(runId, cancellationToken);

    /// <summary>Gets a run's latest checkpoint with its state and whether its checksum still matches, or null when it has none.</summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    public async Task<CheckpointState?> GetLatestCheckpointAsync(RunId runId, CancellationToken cancellationToken = default)
    {
        var data = await _store.GetRecoveryDataAsync(runId, cancellationToken).ConfigureAwait(false);
        return await InspectAsync(runId, data.Checkpoint, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Gets one of a run's kept checkpoints (by its sequence number, as <see cref="GetCheckpointsAsync"/> lists them) with
    /// its state and whether its checksum still matches, or null when the run keeps no such checkpoint or does not exist.
    /// </summary>
    public async Task<CheckpointState?> GetCheckpointAsync(RunId runId, long sequence, CancellationToken cancellationToken = default) =>
        await InspectAsync(runId, await _queries.GetCheckpointAsync(runId, sequence, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    private async Task<CheckpointState?> InspectAsync(RunId runId, Checkpoint? checkpoint, CancellationToken cancellationToken)
    {
        if (checkpoint is not { } c)
        {
            return null;
        }

        var matches = StateCodec.Matches(c.State.Span, c.Checksum);
        return new CheckpointState(
            new CheckpointSummary(c.Sequence, c.Position, c.RecoveryPoint, c.StatusMessage, c.Checksum, c.CreatedAt, c.State.Length),
            matches ? await ReadableStateAsync(runId, c, cancellationToken).ConfigureAwait(false) : c.State,
            matches);
    }

    /// <summary>
    /// A checkpoint's state as its run reads it: a spilled state read from the stream store, a compressed or encrypted one
    /// unpacked with the engine's keys; as stored when that cannot be done here (no keys, no stream store, content gone).
    /// </summary>
    private async Task<ReadOnlyMemory<byte>> ReadableStateAsync(RunId runId, Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        var what = $"the checkpoint of run {runId} at recovery point '{checkpoint.RecoveryPoint}' (checkpoint {checkpoint.Sequence})";
        try
        {
            return StateSpill.Find(checkpoint) is { } spilled
                ? _streams is null ? checkpoint.State : await StateSpill.ReadAllAsync(_streams, spilled, what, cancellationToken).ConfigureAwait(false)
                : _codec.Unprotect(checkpoint.State, what);
        }
        catch (Exception ex) when (ex is CheckpointCorruptedException or StreamNotFoundException or StreamCorruptedException or StoreUnavailableException)
        {
            return checkpoint.State;
        }
    }

    /// <summary>Gets a run's serialized input, or null once the run has completed (its recovery data is deleted then).</summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    public async Task<ReadOnlyMemory<byte>?> GetInputAsync(RunId runId, CancellationToken cancellationToken = default) =>
        (await _store.GetRecoveryDataAsync(runId, cancellationToken).ConfigureAwait(false)).Input;

    /// <summary>Gets a completed run's serialized result, or null when the run has none.</summary>
    public Task<ReadOnlyMemory<byte>?> GetResultAsync(RunId runId, CancellationToken cancellationToken = default) =>
        _queries.GetResultAsync(runId, cancellationToken);

    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again at once from its last recovery point. A re-run
    /// does not use up one of the run's retries; it is recorded as a run event.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="message">Who asked and why: the event's message. Default <c>re-run requested</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is pending, running or completed; nothing changed.</exception>
    /// <exception cref="CheckpointCorruptedException">
    /// The run's latest checkpoint fails its checksum: it is quarantined, and the message names the earlier kept checkpoints
    /// to re-run from instead (<see cref="RerunAsync(RunId, RerunOptions, CancellationToken)"/>); nothing changed.
    /// </exception>
    public async Task<RunInfo> RerunAsync(RunId runId, string? message = null, CancellationToken cancellationToken = default)
    {
        await EnsureLatestIntactAsync(runId, cancellationToken).ConfigureAwait(false);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var run = await _operations.RequestRerunAsync(runId, message ?? "re-run requested", cancellationToken).ConfigureAwait(false);
        _host?.Changed(runId);
        return RunInfo.From(run);
    }

    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again from one of its kept checkpoints, optionally with
    /// an edited state (<see cref="RerunOptions"/>). The stages after that recovery point run again; the ones before it do
    /// not. Everything is checked before anything changes.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is pending, running or completed; nothing changed.</exception>
    /// <exception cref="CheckpointNotFoundException">The run keeps no such checkpoint; nothing changed.</exception>
    /// <exception cref="CheckpointCorruptedException">
    /// The chosen checkpoint fails its checksum and no edited state replaces its state: it is quarantined; nothing changed.
    /// </exception>
    /// <exception cref="StateSerializationException">
    /// The edited state is over the size limit, is meant for a checkpoint inside a parallel step or sub-flow, or — when the
    /// run's flow is known here — cannot be read as its state type; nothing changed.
    /// </exception>
    public Task<RunInfo> RerunAsync(RunId runId, RerunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return RerunFromAsync(
            runId,
            options,
            (run, checkpoint, flow) => options.State is { } state ? CheckEditedState(run, checkpoint, state, flow) : null,
            cancellationToken);
    }

    /// <summary>
    /// Checks the run's status, chooses the checkpoint and checks the edited state (<paramref name="editedState"/> returns
    /// it checked, or throws) before anything changes; then has the store re-run the run from that checkpoint.
    /// </summary>
    internal async Task<RunInfo> RerunFromAsync(
        RunId runId, RerunOptions options, Func<RunRecord, CheckpointSummary, FlowDefinition?, byte[]?> editedState, CancellationToken cancellationToken)
    {
        var run = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
        StoreRules.EnsureCanRerun(runId, run.Status);
        var checkpoint = CheckpointChoice.Choose(runId, await _queries.GetCheckpointsAsync(runId, cancellationToken).ConfigureAwait(false), options);
        var state = editedState(run, checkpoint, _host?.FindFlow(run));
        if (state is null)
        {
            await EnsureIntactAsync(runId, checkpoint, cancellationToken).ConfigureAwait(false);
        }

        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var rerun = await _operations.RequestRerunFromAsync(runId, checkpoint.Sequence, state, options.Message, cancellationToken).ConfigureAwait(false);
        _host?.Changed(runId);
        return RunInfo.From(rerun);
    }

    /// <summary>Cancels an unfinished run; its checkpoints are kept, and a stage of it running in this engine is cancelled too.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="message">Who asked and why: the event's message. Default <c>cancelled by request</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is completed or already cancelled.</exception>
    public async Task<RunInfo> CancelAsync(RunId runId, string? message = null, CancellationToken cancellationToken = default)
    {
        var run = await _operations.CancelRunAsync(runId, message ?? "cancelled by request", cancellationToken).ConfigureAwait(false);
        if (_host is not null)
        {
            await _host.CancelRunningAsync(runId).ConfigureAwait(false);
            _host.Changed(runId);
        }

        return RunInfo.From(run);
    }

    /// <summary>Deletes completed, failed and cancelled runs that finished more than <paramref name="olderThan"/> ago, with all their data. Returns how many.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="olderThan"/> is negative or reaches before the clock's year 1.</exception>
    public Task<int> PurgeAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(olderThan, TimeSpan.Zero);
        var now = _options.TimeProvider.GetUtcNow();
        if (olderThan > now - DateTimeOffset.MinValue)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan, $"A retention of {olderThan.TotalDays:N0} days reaches before the year 1.");
        }

        return _operations.PurgeAsync(now - olderThan, cancellationToken);
    }

    /// <summary>Waits until a run has finished (completed, failed or cancelled) and returns it.</summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    public async Task<RunInfo> WaitForRunAsync(RunId runId, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var run = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
            if (run.Status.IsFinished())
            {
                return RunInfo.From(run);
            }

            if (_host is not null)
            {
                await _host.WaitForChangeAsync(runId, _options.PollInterval, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.Delay(_options.PollInterval, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Task EnsureStartedAsync(CancellationToken cancellationToken) =>
        _host?.EnsureStartedAsync(cancellationToken) ?? Task.CompletedTask;

    private static ArgumentException NotAnOperatorStore(RunStore store, string contract) =>
        new($"The store {store.GetType().Name} does not implement {contract}: people and tools cannot use it.", nameof(store));

    /// <summary>Refuses an edited state the run could not resume with, before anything changes.</summary>
    private byte[] CheckEditedState(RunRecord run, CheckpointSummary checkpoint, byte[] state, FlowDefinition? flow)
    {
        _codec.CheckSize(state.Length, $"The edited state for run {run.Id}", " Nothing changed.");

        CheckNotInsideEnvelope(run, checkpoint, flow);
        if (flow is null)
        {
            // Not registered here: the engine that resumes the run reads the state and fails it if it cannot.
            return _codec.Protection.Protect(state);
        }

        var serializer = _codec.Serializer;
        bool read;
        try
        {
            read = (bool)ReadAsMethod.MakeGenericMethod(flow.StateType).Invoke(null, [serializer, state])!;
        }
        catch (TargetInvocationException wrapper) when (wrapper.InnerException is { } ex and not OperationCanceledException)
        {
            var member = serializer.FindMember(ex);
            throw new StateSerializationException(
                $"The edited state for run {run.Id} cannot be read as {flow.StateType.Name}, the state of flow {flow}" +
                $"{(member is null ? "" : $" (at member '{member}')")}: {ex.Message} Nothing changed.",
                member,
                ex);
        }

        if (!read)
        {
            throw new StateSerializationException(
                $"The edited state for run {run.Id} is empty (null): flow {flow} needs a {flow.StateType.Name}. Nothing changed.");
        }

        // Stored as the engine stores states: compressed and encrypted when it does.
        return _codec.Protection.Protect(state);
    }

    /// <summary>
    /// Refuses to edit the state of a recovery point inside a parallel step or an inline sub-flow: its checkpoint saves
    /// the states of every branch together, not the flow's state alone.
    /// </summary>
    internal static void CheckNotInsideEnvelope(RunRecord run, CheckpointSummary checkpoint, FlowDefinition? flow)
    {
        if (!checkpoint.HoldsBranchStates)
        {
            return;
        }

        if (flow is null)
        {
            throw new StateSerializationException(
                $"Run {run.Id} cannot resume from '{checkpoint.RecoveryPoint}' (checkpoint {checkpoint.Sequence}) with an edited state: the checkpoint is inside a " +
                "parallel step or sub-flow and saves the states of all its branches together. Re-run from it without an edited state, or from a " +
                "recovery point outside it. Nothing changed.");
        }

        var envelope = FlowDefinition.Flatten(flow.Steps).OfType<CompositeStep>().FirstOrDefault(step => step is IEnvelopeStep
            && FlowDefinition.Flatten(step.Bodies.SelectMany(body => body)).Any(s => s is RecoveryPointStep && s.Name == checkpoint.RecoveryPoint));
        var where = envelope is null ? "a parallel step or sub-flow" : $"{envelope.Kind} '{envelope.Name}'";
        throw new StateSerializationException(
            $"Run {run.Id} cannot resume from recovery point '{checkpoint.RecoveryPoint}' with an edited state: the point is inside " +
            $"{where} of flow {flow}, whose checkpoints save the states of all its branches together. " +
            "Re-run from it without an edited state, or from a recovery point outside it. Nothing changed.");
    }

    /// <summary>Whether the state reads as <typeparamref name="TState"/> and is not null; throws what the serializer throws.</summary>
    private static bool ReadAs<TState>(StateSerializer serializer, byte[] state) => serializer.Deserialize<TState>(state) is not null;
}
