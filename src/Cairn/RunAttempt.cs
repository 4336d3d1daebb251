using System.Diagnostics;
using Cairn.Storage;

namespace Cairn;

/// <summary>One attempt of a claimed run: restore the state, run the remaining steps, record how it ended.</summary>
internal sealed class RunAttempt<TState>
{
    private readonly CairnEngine _engine;
    private readonly Flow<TState> _flow;
    private readonly RunRecord _run;
    private readonly RunLease _lease;
    private readonly byte[]? _knownInput;
    private readonly List<(LoopStep<TState> Loop, int Iteration)> _loops = [];
    private string _where = "while restoring its state";
    private TState _state = default!;
    private RecoveryInfo _recovery = null!;
    private long _sequence;
    private string? _statusMessage;

    /// <param name="engine">The engine.</param>
    /// <param name="flow">The run's flow.</param>
    /// <param name="claimed">The run and its lease.</param>
    /// <param name="knownInput">The input of a run created claimed by this engine just now; null to read the recovery data.</param>
    public RunAttempt(CairnEngine engine, Flow<TState> flow, ClaimedRun claimed, byte[]? knownInput)
    {
        _engine = engine;
        _flow = flow;
        _run = claimed.Run;
        _lease = claimed.Lease;
        _knownInput = knownInput;
    }

    public async Task ExecuteAsync(CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity(Telemetry.RunActivity);
        activity?.SetTag(Telemetry.FlowTag, _flow.Name);
        activity?.SetTag(Telemetry.RunIdTag, _run.Id.ToString());
        activity?.SetTag(Telemetry.AttemptTag, _run.Attempt);
        string outcome;
        try
        {
            outcome = await RunStepsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RunOwnershipLostException ex)
        {
            Log.RunAbandoned(_engine.Logger, _run.Id, ex.Message);
            outcome = "abandoned";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled by an operator (the store refuses our next write) or by a shutdown past its timeout.
            outcome = await RecordAsync(
                new RunTransition(RunStatus.Interrupted, RunEventKind.Interrupted, $"attempt {_run.Attempt} cancelled {_where} by engine shutdown; the run will resume from its last recovery point"),
                "interrupted").ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            outcome = await RecordFailureAsync(ex).ConfigureAwait(false);
        }

        activity?.SetTag(Telemetry.OutcomeTag, outcome);
        Telemetry.RunsFinished.Add(1, new KeyValuePair<string, object?>(Telemetry.FlowTag, _flow.Name), new KeyValuePair<string, object?>(Telemetry.OutcomeTag, outcome));
    }

    private async Task<string> RunStepsAsync(CancellationToken cancellationToken)
    {
        var store = _engine.Store;
        var data = _knownInput is not null && _run.CheckpointSequence == 0
            ? new RecoveryData(_knownInput, Checkpoint: null)
            : await store.GetRecoveryDataAsync(_run.Id, cancellationToken).ConfigureAwait(false);
        var (state, resumeAt, resumedFrom) = Restore(data);
        if (resumedFrom is null)
        {
            Log.AttemptStarted(_engine.Logger, _run.Id, _flow.Name, _run.Attempt);
        }
        else
        {
            Log.RunResumed(_engine.Logger, _run.Id, _flow.Name, resumedFrom, _run.Attempt);
        }

        if (_run.FlowVersion != _flow.Version || RunFingerprint() is { } started && started != _flow.Fingerprint)
        {
            Log.ResumingOnChangedFlow(_engine.Logger, _run.Id, _flow.Name, _run.FlowVersion, RunFingerprint() ?? "unknown", _flow.Version, _flow.Fingerprint);
        }

        _state = state;
        _recovery = new RecoveryInfo(_run.Attempt > 1 || resumedFrom is not null, resumedFrom, _run.Attempt, _run.LastError);
        _sequence = _run.CheckpointSequence;
        if (await ExecuteSequenceAsync(_flow.Steps, [], resumeAt, cancellationToken).ConfigureAwait(false) is { } stopped)
        {
            return stopped;
        }

        _where = "while saving its result";
        var result = Serialize(_state, "save its result");
        await store.CompleteRunAsync(_lease, result, $"completed on attempt {_run.Attempt}", cancellationToken).ConfigureAwait(false);
        _engine.NotifyCompleted(_run, result);
        Log.RunCompleted(_engine.Logger, _run.Id, _flow.Name);
        return "completed";
    }

    /// <summary>
    /// Runs a sequence of steps (the flow's, a loop body's, a branch path's) whose position is <paramref name="position"/>,
    /// from its start or, when <paramref name="resumeAt"/> is set, from just after the recovery point it leads to.
    /// Returns the attempt's outcome when the engine stopped it before a stage, else null once the sequence has ended.
    /// </summary>
    /// <param name="steps">The sequence.</param>
    /// <param name="position">The position of the sequence: the path segments of its enclosing steps and lanes.</param>
    /// <param name="resumeAt">Where the checkpoint is, relative to this sequence: a step index, or an index, a lane and
    /// the rest of the path inside that step.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    private async Task<string?> ExecuteSequenceAsync(IReadOnlyList<FlowStep> steps, List<int> position, int[]? resumeAt, CancellationToken cancellationToken)
    {
        var start = 0;
        if (resumeAt is [var pointIndex])
        {
            start = pointIndex + 1;
        }
        else if (resumeAt is [var index, ..])
        {
            position.Add(index);
            var stopped = await ExecuteCompositeAsync((CompositeStep)steps[index], position, resumeAt[1..], cancellationToken).ConfigureAwait(false);
            position.RemoveAt(position.Count - 1);
            if (stopped is not null)
            {
                return stopped;
            }

            start = index + 1;
        }

        for (var i = start; i < steps.Count; i++)
        {
            position.Add(i);
            var stopped = steps[i] switch
            {
                StageStep<TState> stage => await ExecuteStageAsync(stage, cancellationToken).ConfigureAwait(false),
                RecoveryPointStep point => await PassRecoveryPointAsync(point, position, cancellationToken).ConfigureAwait(false),
                CompositeStep composite => await ExecuteCompositeAsync(composite, position, null, cancellationToken).ConfigureAwait(false),
                _ => throw new InvalidOperationException($"Unknown step '{steps[i].Name}'."),
            };
            position.RemoveAt(position.Count - 1);
            if (stopped is not null)
            {
                return stopped;
            }
        }

        return null;
    }

    /// <param name="step">The loop or branch.</param>
    /// <param name="position">The step's position.</param>
    /// <param name="resumeAt">Null to enter the step afresh; else the lane (iteration or path) and the path inside it.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    private async Task<string?> ExecuteCompositeAsync(CompositeStep step, List<int> position, int[]? resumeAt, CancellationToken cancellationToken)
    {
        switch (step)
        {
            case LoopStep<TState> loop:
                var iteration = resumeAt?[0] ?? 0;
                var inBody = resumeAt?[1..];
                while (true)
                {
                    // A resumed iteration is finished first: whether it runs was decided before the checkpoint.
                    _where = $"in loop '{loop.Name}' before iteration {iteration}";
                    if (inBody is null && !loop.RunsIteration(_state, iteration))
                    {
                        return null;
                    }

                    position.Add(iteration);
                    _loops.Add((loop, iteration));
                    var stopped = await ExecuteSequenceAsync(loop.Body, position, inBody, cancellationToken).ConfigureAwait(false);
                    _loops.RemoveAt(_loops.Count - 1);
                    position.RemoveAt(position.Count - 1);
                    if (stopped is not null)
                    {
                        return stopped;
                    }

                    inBody = null;
                    iteration++;
                }

            case BranchStep<TState> branch:
                _where = $"in branch '{branch.Name}'";
                var lane = resumeAt?[0] ?? branch.Choose(_state);
                if (lane < 0)
                {
                    return null;
                }

                position.Add(lane);
                var result = await ExecuteSequenceAsync(branch.Paths[lane], position, resumeAt?[1..], cancellationToken).ConfigureAwait(false);
                position.RemoveAt(position.Count - 1);
                return result;

            default:
                throw new InvalidOperationException($"Unknown step '{step.Name}'.");
        }
    }

    private async Task<string?> ExecuteStageAsync(StageStep<TState> stage, CancellationToken cancellationToken)
    {
        if (_engine.IsStopping)
        {
            return await RecordAsync(
                new RunTransition(RunStatus.Interrupted, RunEventKind.Interrupted, $"engine {_engine.NodeName} stopped before stage '{stage.Name}'; the run will resume from its last recovery point"),
                "interrupted").ConfigureAwait(false);
        }

        _where = _loops.Count == 0 ? $"in stage '{stage.Name}'" : $"in stage '{stage.Name}' (iteration {string.Join('/', _loops.Select(l => l.Iteration))})";
        var context = new StageContext<TState>(
            _state, _run.Id, _run.RecoveryId, _flow.Name, stage.Name, _recovery, [.. _loops.Select(l => l.Iteration)], CurrentItem());
        using (var activity = StartActivity(Telemetry.StageActivity, stage.Name, Telemetry.StageTag))
        {
            await stage.Execute(context, cancellationToken).ConfigureAwait(false);
            activity?.SetStatus(ActivityStatusCode.Ok);
        }

        _state = context.State;
        _statusMessage = context.StatusMessage ?? _statusMessage;
        return null;
    }

    private async Task<string?> PassRecoveryPointAsync(RecoveryPointStep point, List<int> position, CancellationToken cancellationToken)
    {
        _where = $"at recovery point '{point.Name}'";
        _sequence++;
        await SaveCheckpointAsync(point, FlowPath.Of([.. position]), _sequence, _statusMessage ?? point.StatusMessage, _state, cancellationToken).ConfigureAwait(false);
        _statusMessage = null;
        return null;
    }

    /// <summary>Reads the current item of the innermost ForEach loop, when the stage is inside one.</summary>
    private Func<object?>? CurrentItem()
    {
        for (var i = _loops.Count - 1; i >= 0; i--)
        {
            var (loop, iteration) = _loops[i];
            if (loop.ItemAt is { } itemAt)
            {
                return () => itemAt(_state, iteration);
            }
        }

        return null;
    }

    private (TState State, int[]? ResumeAt, string? ResumedFrom) Restore(RecoveryData data)
    {
        if (data.Checkpoint is { } checkpoint)
        {
            var where = $"the checkpoint of run {_run.Id} at recovery point '{checkpoint.RecoveryPoint}' (flow {_flow}, checkpoint {checkpoint.Sequence})";
            if (!Checksum.Matches(checkpoint.State.Span, checkpoint.Checksum))
            {
                throw new CheckpointCorruptedException($"{Capitalize(where)} is corrupt: its checksum does not match its data. The checkpoint is kept unchanged for inspection.");
            }

            var resumeAt = FindRecoveryPoint(checkpoint);
            return (ReadState(checkpoint.State, where), resumeAt, checkpoint.RecoveryPoint);
        }

        var input = data.Input ?? throw new CheckpointCorruptedException($"Run {_run.Id} of flow {_flow} has neither a checkpoint nor its input.");
        if (!Checksum.Matches(input.Span, _run.InputChecksum))
        {
            throw new CheckpointCorruptedException($"The stored input of run {_run.Id} (flow {_flow}) is corrupt: its checksum does not match its data. It is kept unchanged for inspection.");
        }

        return (ReadState(input, $"the input of run {_run.Id} (flow {_flow})"), null, null);
    }

    /// <summary>
    /// Finds where to resume in the flow as it is now: at the checkpoint's position if the recovery point is still there,
    /// else at the recovery point of the same name, keeping the iterations and paths of the loops and branches around it
    /// (a stage inserted or removed elsewhere keeps runs resumable).
    /// </summary>
    private int[] FindRecoveryPoint(Checkpoint checkpoint)
    {
        int[] path;
        try
        {
            path = [.. FlowPath.Parse(checkpoint.Position).Segments];
        }
        catch (FormatException ex)
        {
            throw new CheckpointCorruptedException($"The checkpoint of run {_run.Id} has an unreadable position: {ex.Message}");
        }

        if (path.Length % 2 == 0)
        {
            throw new CheckpointCorruptedException($"The checkpoint of run {_run.Id} has the position '{checkpoint.Position}', which leads to no step.");
        }

        if (FlowPositions.IsRecoveryPointAt(_flow.Steps, path, checkpoint.RecoveryPoint))
        {
            return path;
        }

        var moved = FlowPositions.FindByName(_flow.Steps, checkpoint.RecoveryPoint)
            ?? throw new FlowChangedException(
                $"Run {_run.Id} cannot resume: recovery point '{checkpoint.RecoveryPoint}' no longer exists in {_flow} (the run started on v{_run.FlowVersion}). " +
                "Its checkpoint is kept; restore the recovery point or re-run it after deciding what to do.");
        if (FlowPositions.Relocate(moved, path) is { } relocated)
        {
            return relocated;
        }

        throw new FlowChangedException(
            $"Run {_run.Id} cannot resume: recovery point '{checkpoint.RecoveryPoint}' was inside {(path.Length - 1) / 2} loop(s) or branch(es) " +
            $"at its checkpoint and is inside {moved.Composites.Count} now, or in another kind, in {_flow} (the run started on v{_run.FlowVersion}). " +
            "Its checkpoint is kept; re-run it after deciding what to do.");
    }

    private async Task SaveCheckpointAsync(RecoveryPointStep point, FlowPath position, long sequence, string? statusMessage, TState state, CancellationToken cancellationToken)
    {
        using var activity = StartActivity(Telemetry.CheckpointActivity, point.Name, Telemetry.RecoveryPointTag);

        var started = Stopwatch.GetTimestamp();
        var bytes = Serialize(state, $"save recovery point '{point.Name}'");
        var checkpoint = new Checkpoint(sequence, position.ToString(), point.Name, statusMessage, bytes, Checksum.Compute(bytes));
        await _engine.Store.SaveCheckpointAsync(_lease, checkpoint, _engine.Options.CheckpointsToKeep, cancellationToken).ConfigureAwait(false);
        activity?.SetStatus(ActivityStatusCode.Ok);
        Telemetry.CheckpointDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        Telemetry.CheckpointSize.Record(bytes.Length);
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

    private byte[] Serialize(TState state, string purpose) =>
        _engine.SerializeState(state, $"Flow {_flow} could not {purpose} for run {_run.Id}: the state", " The run stays resumable from its previous checkpoint.");

    /// <summary>
    /// Reads a saved state: through the flow's upgrade hook when the run started on an older version and the flow has
    /// one, else by deserializing it as this version's state type.
    /// </summary>
    private TState ReadState(ReadOnlyMemory<byte> data, string what)
    {
        var older = _run.FlowVersion < _flow.Version;
        if (older && _flow.UpgradeState is { } upgrade)
        {
            try
            {
                return upgrade(_run.FlowVersion, data);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new StateSerializationException(
                    $"{Capitalize(what)}, saved by v{_run.FlowVersion}, could not be upgraded to v{_flow.Version} by the flow's UpgradeState hook: {ex.Message} It is kept unchanged.",
                    null,
                    ex);
            }
        }

        var serializer = _engine.Serializer;
        try
        {
            return serializer.Deserialize<TState>(data.Span);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var member = serializer.FindMember(ex);
            var versions = older
                ? $" (the run started on v{_run.FlowVersion}; give {_flow} an UpgradeState hook to convert older states)"
                : "";
            throw new StateSerializationException(
                $"{Capitalize(what)} can no longer be read as {typeof(TState).Name}{(member is null ? "" : $" at member '{member}'")}{versions}: {ex.Message} It is kept unchanged.",
                member,
                ex);
        }
    }

    private async Task<string> RecordFailureAsync(Exception error)
    {
        var description = $"{_where}: {error.GetType().Name}: {error.Message}";
        RetryPolicy policy;
        try
        {
            policy = RunSettings.FromJson(_run.Settings).RetryPolicy;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            policy = _engine.Options.DefaultRetryPolicy;
        }

        if (error is StoreUnavailableException)
        {
            // The store failed, not the run: try again after the retry interval without using up one of its retries. If
            // the store is still down, recording this waits for it (RecordAsync keeps trying).
            Log.RetryScheduled(_engine.Logger, _run.Id, _flow.Name, _run.Attempt, policy.Interval, description);
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
        var withinWindow = _engine.TimeProvider.GetUtcNow() + delay <= _run.CreatedAt + policy.Window;
        if (!permanent && retry <= policy.MaxRetries && withinWindow)
        {
            Log.RetryScheduled(_engine.Logger, _run.Id, _flow.Name, _run.Attempt, delay, description);
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
        Log.RunFailed(_engine.Logger, _run.Id, _flow.Name, description);
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
            Log.RunInterrupted(_engine.Logger, _run.Id, _flow.Name);
        }

        // The run's outcome must reach the store; while the store is down, keep trying until the engine is aborted.
        var delay = _engine.Options.PollInterval;
        while (true)
        {
            try
            {
                await _engine.Store.TransitionAsync(_lease, transition, CancellationToken.None).ConfigureAwait(false);
                return outcome;
            }
            catch (RunOwnershipLostException ex)
            {
                Log.RunAbandoned(_engine.Logger, _run.Id, ex.Message);
                return "abandoned";
            }
            catch (Exception ex)
            {
                Log.StoreError(_engine.Logger, ex, $"recording the outcome of run {_run.Id}", delay);
                if (_engine.IsAborting)
                {
                    return "abandoned";
                }

                await Task.Delay(delay, _engine.TimeProvider).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Starts a stage or checkpoint activity with its tags set at creation, so listeners see them when it starts.</summary>
    private Activity? StartActivity(string operation, string name, string nameTag)
    {
        if (!Telemetry.Source.HasListeners())
        {
            return null;
        }

        ActivityTagsCollection tags = new()
        {
            [nameTag] = name,
            [Telemetry.FlowTag] = _flow.Name,
            [Telemetry.RunIdTag] = _run.Id.ToString(),
            [Telemetry.AttemptTag] = _run.Attempt,
        };
        var activity = Telemetry.Source.StartActivity(operation, ActivityKind.Internal, parentContext: default, tags);
        activity?.DisplayName = name;
        return activity;
    }

    private static string Capitalize(string text) => string.Concat(char.ToUpperInvariant(text[0]).ToString(), text.AsSpan(1));
}
