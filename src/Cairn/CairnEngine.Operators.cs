namespace Cairn;

public sealed partial class CairnEngine : IRunOperatorHost
{
    /// <summary>
    /// The operator API over this engine's store: list, show, re-run, cancel, purge and wait for runs by ID. Through the
    /// engine it also checks edited states against the registered flows, cancels stages running here, and sees this
    /// engine's changes at once.
    /// </summary>
    public RunOperator Operator { get; }

    /// <summary>
    /// Delivers a signal to a run, durably: kept until the run's <c>WaitFor</c> step of that name takes it (a signal sent
    /// before the run gets there is kept), waking the run at once if it waits; a second signal with the same
    /// <paramref name="signalId"/> is ignored. See <see cref="RunOperator.SignalAsync{TPayload}(RunId, string, TPayload, string?, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run has finished.</exception>
    public Task<SignalDelivery> SignalAsync<TPayload>(RunId runId, string signal, TPayload payload, string? signalId = null, CancellationToken cancellationToken = default) =>
        Operator.SignalAsync(runId, signal, payload, signalId, cancellationToken);

    /// <summary>Delivers a signal to the run of <paramref name="flow"/> with <paramref name="recoveryId"/>; see <see cref="SignalAsync{TPayload}(RunId, string, TPayload, string?, CancellationToken)"/>.</summary>
    /// <exception cref="RunNotFoundException">No run of the flow has the recovery ID.</exception>
    /// <exception cref="InvalidRunStateException">The run has finished.</exception>
    public Task<SignalDelivery> SignalByRecoveryIdAsync<TPayload>(
        FlowDefinition flow, string recoveryId, string signal, TPayload payload, string? signalId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(flow);
        return Operator.SignalByRecoveryIdAsync(flow.Name, recoveryId, signal, payload, signalId, cancellationToken);
    }

    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again at once from its last recovery point.
    /// A re-run does not use up one of the run's retries. Starts the engine if it has not started.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is pending, running or completed; nothing changed.</exception>
    public Task<RunInfo> RerunAsync(RunId runId, CancellationToken cancellationToken = default) =>
        Operator.RerunAsync(runId, message: null, cancellationToken);

    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again from one of its kept checkpoints (how many a run
    /// keeps is <see cref="CairnOptions.CheckpointsToKeep"/>), optionally with an edited state; see
    /// <see cref="RunOperator.RerunAsync(RunId, RerunOptions, CancellationToken)"/>. Starts the engine if it has not started.
    /// </summary>
    public Task<RunInfo> RerunAsync(RunId runId, RerunOptions options, CancellationToken cancellationToken = default) =>
        Operator.RerunAsync(runId, options, cancellationToken);

    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again from one of its kept checkpoints with an edited
    /// state, serialized with the engine's serializer. Otherwise as
    /// <see cref="RerunAsync(RunId, RerunOptions, CancellationToken)"/>.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="options">Which checkpoint; its <see cref="RerunOptions.State"/> must be null.</param>
    /// <param name="state">The state to resume with.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="StateSerializationException">
    /// The run's flow is registered here with another state type, or the state cannot be serialized or is too large;
    /// nothing changed.
    /// </exception>
    public Task<RunInfo> RerunAsync<TState>(RunId runId, RerunOptions options, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.State is not null)
        {
            throw new ArgumentException("Give the edited state either as RerunOptions.State or as the state argument, not both.", nameof(options));
        }

        return Operator.RerunFromAsync(
            runId,
            options,
            (run, checkpoint, flow) =>
            {
                if (flow is not null && flow.StateType != typeof(TState))
                {
                    throw new StateSerializationException(
                        $"The edited state for run {runId} is a {typeof(TState).Name}, but the state of flow {flow} is a {flow.StateType.Name}. Nothing changed.");
                }

                RunOperator.CheckNotInsideEnvelope(run, checkpoint, flow);
                return SerializeState(state, $"The edited state for run {runId}", " Nothing changed.");
            },
            cancellationToken);
    }

    /// <summary>Cancels an unfinished run; a stage of it running in this engine is cancelled too. Its checkpoints are kept.</summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is completed or already cancelled.</exception>
    public Task<RunInfo> CancelRunAsync(RunId runId, CancellationToken cancellationToken = default) =>
        Operator.CancelAsync(runId, message: null, cancellationToken);

    /// <summary>Cancels an unfinished run with compensation (see <see cref="RunOperator.CancelWithCompensationAsync"/>).</summary>
    public Task<RunInfo> CancelWithCompensationAsync(RunId runId, CancellationToken cancellationToken = default) =>
        Operator.CancelWithCompensationAsync(runId, message: null, cancellationToken);

    /// <summary>Deletes completed, failed and cancelled runs that finished more than <paramref name="olderThan"/> ago. Returns how many.</summary>
    public async Task<int> PurgeAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var count = await Operator.PurgeAsync(olderThan, cancellationToken).ConfigureAwait(false);
        Log.Purged(_logger, count, TimeProvider.GetUtcNow() - olderThan);
        return count;
    }

    /// <summary>
    /// Deletes the stream content that no kept checkpoint refers to and nothing touched for
    /// <see cref="CairnOptions.OrphanStreamAge"/> (or <paramref name="untouchedFor"/>); the scheduled purge does it too.
    /// </summary>
    /// <returns>How many contents were deleted; 0 when the engine keeps no streams.</returns>
    public async Task<int> SweepStreamsAsync(TimeSpan? untouchedFor = null, CancellationToken cancellationToken = default)
    {
        if (Execution.Streams is not { } streams || Store is not IStreamReferences references)
        {
            return 0;
        }

        var cutoff = TimeProvider.GetUtcNow() - (untouchedFor ?? _options.OrphanStreamAge);
        var (count, bytes) = await StreamSweep.RunAsync(streams, references, cutoff, cancellationToken).ConfigureAwait(false);
        if (count > 0)
        {
            Log.StreamsSwept(_logger, count, bytes, cutoff);
        }

        return count;
    }

    Task IRunOperatorHost.EnsureStartedAsync(CancellationToken cancellationToken) => StartAsync(cancellationToken);

    PurgeSettings IRunOperatorHost.PurgeSettings => new(_options.RetentionPeriod, _options.PurgeInterval);

    /// <summary>The registered flow a run resumes on: the run's version if registered, else the flow's name; null when neither is.</summary>
    FlowDefinition? IRunOperatorHost.FindFlow(RunRecord run) =>
        Flows.Where(f => f.Name == run.FlowName).OrderByDescending(f => f.Version == run.FlowVersion).FirstOrDefault();

    void IRunOperatorHost.OutboxChanged() => _dispatcher?.Wake();

    void IRunOperatorHost.SchedulesChanged() => WakeSchedules();

    void IRunOperatorHost.Changed(RunId runId)
    {
        Wake();
        NotifyChanged(runId);
    }

    async Task IRunOperatorHost.CancelRunningAsync(RunId runId)
    {
        if (_active.TryGetValue(runId, out var running))
        {
            try
            {
                await running.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The attempt ended in the meantime; the store has already refused its next write.
            }
        }
    }

    async Task IRunOperatorHost.WaitForChangeAsync(RunId runId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var changed = _changes.GetOrAdd(runId, _ => NewChangeSignal());
        try
        {
            await changed.Task.WaitAsync(timeout, TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Another process may have changed the run: the caller reads it again.
        }
    }
}
