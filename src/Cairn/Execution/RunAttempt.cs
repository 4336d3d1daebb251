using System.Diagnostics;

namespace Cairn.Execution;

/// <summary>One attempt of a claimed run: restore the state, run the remaining steps, record how it ended.</summary>
internal sealed partial class RunAttempt<TState>
{
    private readonly EngineContext _context;
    private readonly Flow<TState> _flow;
    private readonly RunRecord _run;
    private readonly RunLease _lease;
    private readonly byte[]? _knownInput;
    private StepRunner<TState>? _runner;
    private string _restoring = "while restoring its state";
    private long _sequence;
    private CompensationLog _compensations = CompensationLog.Empty();
    private FlowPath _position = FlowPath.Start;
    private AttemptStreams? _streams;

    /// <summary>The run's streams, once restored.</summary>
    private AttemptStreams Streams => _streams ?? throw new InvalidOperationException("The run's streams are read with its recovery data.");

    /// <summary>Where the attempt is, for messages: the runner's place once steps run.</summary>
    private string Where => _runner?.Where ?? _restoring;

    /// <param name="context">What the attempt needs of its engine.</param>
    /// <param name="flow">The run's flow.</param>
    /// <param name="claimed">The run and its lease.</param>
    /// <param name="knownInput">The input of a run created claimed by this engine just now; null to read the recovery data.</param>
    public RunAttempt(EngineContext context, Flow<TState> flow, ClaimedRun claimed, byte[]? knownInput)
    {
        _context = context;
        _flow = flow;
        _run = claimed.Run;
        _lease = claimed.Lease;
        _knownInput = knownInput;
    }

    public async Task ExecuteAsync(CancellationToken cancellationToken)
    {
        using var activity = Telemetry.StartAttemptActivity(_flow.Name, _run.Id, _run.Attempt, _run.Settings);
        string outcome;
        try
        {
            outcome = await RunStepsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (_context.Options.AttemptObserver?.HasCrashed == true)
        {
            // A simulated crash (Cairn.Testing): the process is taken as dead, so nothing more is written.
            outcome = "crashed";
        }
        catch (RunOwnershipLostException ex)
        {
            Log.RunAbandoned(_context.Logger, ex);
            outcome = "abandoned";
        }
        catch (WaitingForChildRunException ex)
        {
            outcome = await WaitForChildAsync(ex).ConfigureAwait(false);
        }
        catch (RunWaitingException ex)
        {
            outcome = await WaitAsync(ex).ConfigureAwait(false);
        }
        catch (AttemptStoppedException ex)
        {
            outcome = await RecordAsync(
                new RunTransition(RunStatus.Interrupted, RunEventKind.Interrupted, $"engine {_context.NodeName} stopped before stage '{ex.Stage}'; the run will resume from its last recovery point"),
                "interrupted").ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled by an operator (the store refuses our next write) or by a shutdown past its timeout.
            outcome = await RecordAsync(
                new RunTransition(RunStatus.Interrupted, RunEventKind.Interrupted, $"attempt {_run.Attempt} cancelled {Where} by engine shutdown; the run will resume from its last recovery point"),
                "interrupted").ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            outcome = await RecordFailureAsync(ex).ConfigureAwait(false);
        }

        if (outcome is "failed")
        {
            // Before the attempt ends and its waiters are told: they see the parent already woken.
            await _context.Host.WakeParentAsync(_run).ConfigureAwait(false);
        }

        activity?.SetTag(Telemetry.OutcomeTag, outcome);
        _context.Metrics.AttemptEnded(_flow.Name, outcome);
    }

    private async Task<string> RunStepsAsync(CancellationToken cancellationToken)
    {
        var store = _context.Store;
        RecoveryData data;
        try
        {
            data = _knownInput is not null && _run.CheckpointSequence == 0
                ? new RecoveryData(_knownInput, Checkpoint: null)
                : await store.GetRecoveryDataAsync(_run.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException ex)
        {
            // A store reads the checkpoint's position from its text (FlowPath.Parse): text that is no position is a damaged checkpoint.
            throw new CheckpointCorruptedException($"The checkpoint of run {_run.Id} has an unreadable position: {ex.Message}");
        }

        _sequence = _run.CheckpointSequence;
        _streams = new AttemptStreams(_context.Streams, _run.Id, StateSpill.StageStreams(data.Checkpoint?.Streams ?? StreamManifest.Empty))
        {
            SavedAt = data.Checkpoint?.RecoveryPoint,
        };
        _compensations = ReadCompensations(data.Checkpoint);
        _position = data.Checkpoint?.Position ?? FlowPath.Start;
        (data, var spilledState) = await ReadSpilledStateAsync(data, cancellationToken).ConfigureAwait(false);
        if (_compensations.Undoing)
        {
            return await CompensateAsync(ReadCompensatingState(data.Checkpoint!), cancellationToken).ConfigureAwait(false);
        }

        var (state, resumeAt, resumedFrom, parallel) = Restore(data, spilledState);
        if (resumedFrom is null)
        {
            Log.AttemptStarted(_context.Logger, _run.Id, _flow.Name, _run.Attempt);
        }
        else
        {
            Log.RunResumed(_context.Logger, _run.Id, _flow.Name, resumedFrom, _run.Attempt);
        }

        if (_run.FlowVersion != _flow.Version || RunFingerprint() is { } started && started != _flow.Fingerprint)
        {
            Log.ResumingOnChangedFlow(_context.Logger, _run.Id, _flow.Name, _run.FlowVersion, RunFingerprint() ?? "unknown", _flow.Version, _flow.Fingerprint);
        }

        var recovery = new RecoveryInfo(_run.Attempt > 1 || resumedFrom is not null, resumedFrom, _run.Attempt, _run.LastError);
        var scope = new AttemptScope(_context, _run, _flow, recovery, _lease, _compensations, Streams);
        _runner = new StepRunner<TState>(
            scope,
            state,
            (point, position, current, statusMessage, extras, ct) => SaveCheckpointAsync(
                point.Name, position, statusMessage, token => SerializeAtRecoveryPointAsync(current, point.Name, token), extras, ct),
            (label, position, statusMessage, bytes, extras, ct) => SaveCheckpointAsync(label, position, statusMessage, () => bytes, extras, ct))
        {
            PendingResume = parallel,
            WaitingSince = data.Checkpoint?.CreatedAt,
        };
        await _runner.ExecuteAsync(_flow.Steps, resumeAt, cancellationToken).ConfigureAwait(false);

        _runner.Where = "while saving its result";
        var result = Serialize(_runner.State, "save its result");
        var outbox = ToOutbox(_runner.TakeOutbox(), _sequence + 1);
        await store.CompleteRunAsync(_lease, result, $"completed on attempt {_run.Attempt}", outbox, cancellationToken).ConfigureAwait(false);
        if (outbox.Count > 0)
        {
            _context.Host.OutboxCommitted();
        }

        await DeleteStageCompletionsAsync(cancellationToken).ConfigureAwait(false);

        await _context.Host.WakeParentAsync(_run).ConfigureAwait(false);
        _context.Host.NotifyCompleted(_run, result);
        Log.RunCompleted(_context.Logger, _run.Id, _flow.Name);
        return "completed";
    }

    /// <summary>
    /// Deletes the completion records of the run's stages from the application data sources, now that the run completed
    /// and none of its stages runs again. Best effort: a failure is logged, and the purge deletes the rows later.
    /// </summary>
    private async Task DeleteStageCompletionsAsync(CancellationToken cancellationToken)
    {
        foreach (var source in _flow.DataSources)
        {
            try
            {
                var unit = await source.BeginAsync(cancellationToken).ConfigureAwait(false);
                await using (unit.ConfigureAwait(false))
                {
                    await source.Completions.DeleteRunAsync(unit.Connection, unit.Transaction, _run.Id, cancellationToken).ConfigureAwait(false);
                    await unit.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                Log.StageCompletionsNotDeleted(_context.Logger, ex, _run.Id, source.Name);
            }
        }
    }

    /// <summary>
    /// The position of a checkpoint inside a parallel step: the step at the same place if it is still there, else the
    /// parallel step of the same name keeping the iterations and paths around it.
    /// </summary>
    private FlowPath FindParallel(Checkpoint checkpoint, FlowPath path, string parallelName)
    {
        var stepPath = path.Parent;
        if (FlowPositions.IsStepAt(_flow.Steps, stepPath, step => step is ParallelStep<TState> && step.Name == parallelName))
        {
            return path;
        }

        var moved = FlowPositions.Find(_flow.Steps, step => step is ParallelStep<TState> && step.Name == parallelName)
            ?? throw new FlowChangedException(
                $"Run {_run.Id} cannot resume: parallel '{parallelName}', where its checkpoint '{checkpoint.RecoveryPoint}' is, no longer exists in {_flow} " +
                $"(the run started on v{_run.FlowVersion}). Its checkpoint is kept; re-run it after deciding what to do.");
        return FlowPositions.Relocate(moved, stepPath) is { } relocated
            ? relocated.Append(ParallelStep<TState>.Lane)
            : throw new FlowChangedException(
                $"Run {_run.Id} cannot resume: parallel '{parallelName}' moved into or out of a loop or branch in {_flow} (the run started on v{_run.FlowVersion}). " +
                "Its checkpoint is kept; re-run it after deciding what to do.");
    }

    /// <summary>Saves a checkpoint of serialized bytes: the state at a recovery point, or a parallel step's envelope.</summary>
    /// <param name="label">The recovery point's name (inside a parallel step: the point, or <c>PARALLEL/BRANCH</c> when a branch finished).</param>
    /// <param name="position">Where the run is.</param>
    /// <param name="statusMessage">The status message to show.</param>
    /// <param name="serialize">Produces what to save; timed with the save.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <param name="extras">The outbox messages and the transactional stage's transaction that commit with it.</param>
    private Task SaveCheckpointAsync(
        string label, FlowPath position, string? statusMessage, Func<byte[]> serialize, SaveExtras extras, CancellationToken cancellationToken) =>
        SaveCheckpointAsync(label, position, statusMessage, _ => new ValueTask<StateSpill.Saved>(new StateSpill.Saved(serialize(), null)), extras, cancellationToken);

    /// <summary>Saves a checkpoint of a state that may spill (<see cref="StateSpill"/>).</summary>
    private async Task SaveCheckpointAsync(
        string label, FlowPath position, string? statusMessage, Func<CancellationToken, ValueTask<StateSpill.Saved>> serialize, SaveExtras extras,
        CancellationToken cancellationToken)
    {
        using var activity = Telemetry.StartRunActivity(Telemetry.CheckpointActivity, label, Telemetry.RecoveryPointTag, _flow.Name, _run.Id, _run.Attempt);

        var started = _context.Clock.GetTimestamp();
        var saved = await serialize(cancellationToken).ConfigureAwait(false);
        var bytes = saved.Bytes;
        await Streams.PrepareSaveAsync(label, cancellationToken).ConfigureAwait(false);
        var sequence = Interlocked.Increment(ref _sequence);
        var streams = Streams.Manifest;
        var checkpoint = new Checkpoint(sequence, position, label, statusMessage, bytes, StateCodec.Checksum(bytes))
        {
            Outbox = ToOutbox(extras.Outbox, sequence),
            Compensation = _compensations.ToText(),
            Streams = StateSpill.WithState(streams, saved),
            TakesSignal = extras.TakesSignal,
        };
        var keep = _context.Options.CheckpointsToKeep;
        _context.Options.AttemptObserver?.BeforeCheckpoint(_run);
        await (extras.Transaction is { } transaction
            ? transaction.CommitAsync(checkpoint, keep, cancellationToken)
            : _context.Store.SaveCheckpointAsync(_lease, checkpoint, keep, cancellationToken)).ConfigureAwait(false);
        _position = position;
        Streams.Saved(streams, label);
        if (checkpoint.Outbox.Count > 0)
        {
            _context.Host.OutboxCommitted();
        }

        activity?.SetStatus(ActivityStatusCode.Ok);
        _context.Metrics.CheckpointDuration.Record(_context.Clock.GetElapsedTime(started).TotalSeconds);
        _context.Metrics.CheckpointSize.Record(saved.Spilled?.Length ?? bytes.Length);
    }

    /// <summary>The fingerprint of the flow the run started on, from its settings; null for runs of older engines.</summary>
    private string? RunFingerprint()
    {
        try
        {
            return RunSettings.FromJson(_run.Settings).Fingerprint;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The messages a save commits, with their stable IDs: made from the run, the checkpoint and their place in it.</summary>
    private IReadOnlyList<OutboxMessage> ToOutbox(IReadOnlyList<StageOutbox.PendingMessage> pending, long sequence) =>
        pending.Count == 0
            ? []
            : [.. pending.Select((m, i) => new OutboxMessage(StoreRules.OutboxMessageId(_run.Id, sequence, i), _run.Id, sequence, i, m.Destination, m.Payload))];

    private byte[] Serialize(TState state, string purpose) => _context.Codec.Serialize(state, SaveWhat(purpose), SaveConsequence);


    private async Task<string> RecordFailureAsync(Exception error)
    {
        var description = $"{Where}: {error.GetType().Name}: {error.Message}";
        RetryPolicy policy;
        try
        {
            policy = RunSettings.FromJson(_run.Settings).RetryPolicy;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            policy = _context.Options.DefaultRetryPolicy;
        }

        if (error is StoreUnavailableException)
        {
            // The store failed, not the run: try again after the retry interval without using up one of its retries. If
            // the store is still down, recording this waits for it (RecordAsync keeps trying).
            Log.RetryScheduled(_context.Logger, _run.Id, _flow.Name, _run.Attempt, policy.Interval, description);
            return await RecordAsync(
                new RunTransition(RunStatus.WaitingForRetry, RunEventKind.RetryScheduled, $"attempt {_run.Attempt} failed {description}; the store was unavailable, which does not use up a retry; trying again in {policy.Interval}")
                {
                    LastError = description,
                    RetryAfter = policy.Interval,
                },
                "retry").ConfigureAwait(false);
        }

        var permanent = error is CairnException { IsPermanent: true } || policy.IsPermanent(error);
        var retry = _run.RetriesUsed + 1;
        var delay = retry <= policy.MaxRetries ? policy.DelayBefore(retry) : TimeSpan.Zero;
        var withinWindow = _context.Clock.GetUtcNow() + delay <= _run.CreatedAt + policy.Window;
        if (!permanent && retry <= policy.MaxRetries && withinWindow)
        {
            Log.RetryScheduled(_context.Logger, _run.Id, _flow.Name, _run.Attempt, delay, description);
            return await RecordAsync(
                new RunTransition(RunStatus.WaitingForRetry, RunEventKind.RetryScheduled, $"attempt {_run.Attempt} failed {description}; retry {retry} of {policy.MaxRetries} in {delay}")
                {
                    LastError = description,
                    RetryAfter = delay,
                    CountsAsRetry = true,
                },
                "retry").ConfigureAwait(false);
        }

        var reason = permanent ? "the error is permanent"
            : retry > policy.MaxRetries ? $"all {policy.MaxRetries} retries are used up"
            : $"the next retry would fall outside the retry window of {policy.Window}";
        if (_compensations.Undoing || _compensations.Entries.Count > 0)
        {
            return await FailOrCompensateAsync(description, reason).ConfigureAwait(false);
        }

        Log.RunFailed(_context.Logger, _run.Id, _flow.Name, description);
        return await RecordAsync(
            new RunTransition(RunStatus.Failed, RunEventKind.Failed, $"attempt {_run.Attempt} failed {description}; not retried: {reason}")
            {
                LastError = description,
            },
            "failed").ConfigureAwait(false);
    }

    private async Task<string> RecordAsync(RunTransition transition, string outcome)
    {
        if (transition.Status == RunStatus.Interrupted)
        {
            Log.RunInterrupted(_context.Logger, _run.Id, _flow.Name);
        }

        // The run's outcome must reach the store; while the store is down, keep trying until the engine is aborted.
        var delay = _context.Options.PollInterval;
        while (true)
        {
            try
            {
                await _context.Store.TransitionAsync(_lease, transition, CancellationToken.None).ConfigureAwait(false);
                return outcome;
            }
            catch (RunOwnershipLostException ex)
            {
                Log.RunAbandoned(_context.Logger, ex);
                return "abandoned";
            }
            catch (Exception ex)
            {
                Log.RunStoreError(_context.Logger, ex, "recording the outcome of", _run.Id, delay);
                if (_context.Host.IsAborting)
                {
                    return "abandoned";
                }

                await Task.Delay(delay, _context.Clock).ConfigureAwait(false);
            }
        }
    }

    private static string Capitalize(string text) => string.Concat(char.ToUpperInvariant(text[0]).ToString(), text.AsSpan(1));
}
