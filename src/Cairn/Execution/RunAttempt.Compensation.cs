namespace Cairn.Execution;

internal sealed partial class RunAttempt<TState>
{
    /// <summary>Reads the compensation log a checkpoint saved; an unreadable one is a damaged checkpoint.</summary>
    private CompensationLog ReadCompensations(Checkpoint? checkpoint)
    {
        try
        {
            return CompensationLog.Parse(checkpoint?.Compensation);
        }
        catch (FormatException ex)
        {
            throw new CheckpointCorruptedException(
                $"The checkpoint of run {_run.Id} at '{checkpoint!.RecoveryPoint}' (checkpoint {checkpoint.Sequence}) holds a compensation log that cannot be read: {ex.Message}. It is kept unchanged for inspection.");
        }
    }

    /// <summary>The state a compensating run undoes its stages with: the checkpoint's (a parallel step's envelope holds the flow's state).</summary>
    private TState ReadCompensatingState(Checkpoint checkpoint)
    {
        var where = EnsureIntact(checkpoint);
        return checkpoint.Position is [.., ParallelStep<TState>.Lane]
            ? ReadState(ParallelEnvelope.Read(checkpoint.State).State, where)
            : ReadState(checkpoint.State, where);
    }

    /// <summary>
    /// The run failed for good. With completed stages to undo, it turns to compensating: the log, marked as undoing, is
    /// saved with the state as it is now, and the run is due again at once; the attempt that claims it runs the
    /// compensations. A run already compensating fails with the compensation's error.
    /// </summary>
    private async Task<string> FailOrCompensateAsync(string description, string reason)
    {
        if (_compensations.Undoing)
        {
            Log.RunFailed(_context.Logger, _run.Id, _flow.Name, description);
            return await RecordAsync(
                new RunTransition(RunStatus.Failed, RunEventKind.CompensationFailed, $"attempt {_run.Attempt} failed while compensating {description}; not retried: {reason}")
                {
                    LastError = description,
                },
                "failed").ConfigureAwait(false);
        }

        if (_runner is null)
        {
            // The state could not even be restored: there is nothing to compensate with.
            Log.RunFailed(_context.Logger, _run.Id, _flow.Name, description);
            return await RecordAsync(
                new RunTransition(RunStatus.Failed, RunEventKind.Failed, $"attempt {_run.Attempt} failed {description}; not retried: {reason}; not compensated: its state could not be restored")
                {
                    LastError = description,
                },
                "failed").ConfigureAwait(false);
        }

        var undo = _compensations.Entries;
        _compensations.StartUndoing(description);
        var state = _runner.State;
        var label = "compensating";
        await SaveCheckpointAsync(
            label, _position, $"compensating {undo.Count} stage(s)", () => Serialize(state, "save its state before compensating"), new SaveExtras([]), CancellationToken.None)
            .ConfigureAwait(false);
        Log.RunFailed(_context.Logger, _run.Id, _flow.Name, description);
        return await RecordAsync(
            new RunTransition(
                RunStatus.WaitingForRetry,
                RunEventKind.Compensating,
                $"attempt {_run.Attempt} failed {description}; not retried: {reason}; compensating {string.Join(", ", Enumerable.Reverse(undo))}")
            {
                LastError = description,
                RetryAfter = TimeSpan.Zero,
            },
            "compensating").ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the compensations of the completed stages, newest first, each retried by its own policy in this attempt and
    /// checkpointed once done, so that a compensation recorded as done never runs again (a transactional one commits its
    /// writes with that checkpoint). The run ends compensated, or failed with the error of the compensation that failed
    /// for good.
    /// </summary>
    private async Task<string> CompensateAsync(TState state, CancellationToken cancellationToken)
    {
        var recovery = new RecoveryInfo(true, _run.LastRecoveryPoint, _run.Attempt, _run.LastError);
        var undo = _compensations.Entries;
        var total = undo.Count;
        var done = 0;
        foreach (var entry in Enumerable.Reverse(undo))
        {
            var stage = FlowDefinition.Flatten(_flow.Steps).OfType<StageStep<TState>>().FirstOrDefault(s => s.Name == entry.Stage && s.HasCompensation)
                ?? throw new FlowChangedException(
                    $"Run {_run.Id} cannot compensate {entry}: {_flow} has no such stage with a compensation (the run started on v{_run.FlowVersion}). " +
                    "Its checkpoint is kept; restore the compensation to finish undoing the run.");
            _restoring = $"in the compensation of {entry}";
            done++;
            state = await RunCompensationAsync(stage, entry, state, recovery, $"compensated {entry} ({done} of {total})", cancellationToken).ConfigureAwait(false);
        }

        _restoring = "while recording its compensation";
        await _context.Store.TransitionAsync(
            _lease,
            new RunTransition(RunStatus.Compensated, RunEventKind.Compensated, $"{total} stage(s) compensated on attempt {_run.Attempt} after: {_compensations.Reason}"),
            cancellationToken).ConfigureAwait(false);
        await _context.Host.WakeParentAsync(_run).ConfigureAwait(false);
        return "compensated";
    }

    /// <summary>
    /// Runs one compensation until it succeeds or fails for good, then records it done in a checkpoint; a transactional
    /// compensation runs each try in a new transaction of the store's database, which commits with that checkpoint.
    /// </summary>
    private async Task<TState> RunCompensationAsync(
        StageStep<TState> stage, CompensationLog.Entry entry, TState state, RecoveryInfo recovery, string statusMessage, CancellationToken cancellationToken)
    {
        var policy = stage.CompensationRetry ?? RetryPolicy.Default;
        for (var retry = 1; ; retry++)
        {
            var outbox = new List<StageOutbox.PendingMessage>();
            var context = new StageContext<TState>(
                state, _run.Id, _run.RecoveryId, _flow.Name, stage.Name, recovery, entry.Iterations, null, new StageOutbox(outbox),
                Streams, "compensations may open the run's streams but not change them");
            await using var transaction = stage.CompensationInTransaction is null
                ? null
                : await ((ITransactionalRunStore)_context.Store).BeginStageTransactionAsync(_lease, cancellationToken).ConfigureAwait(false);
            try
            {
                await (transaction is null
                    ? stage.Compensation!(context, cancellationToken)
                    : stage.CompensationInTransaction!(context, transaction.Transaction, cancellationToken)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (retry > policy.MaxRetries || policy.IsPermanent(ex) || ex is CairnException { IsPermanent: true })
                {
                    throw new CompensationFailedException($"failed after {retry} attempt(s): {ex.GetType().Name}: {ex.Message}", ex);
                }

                var delay = policy.DelayBefore(retry);
                Log.RetryScheduled(_context.Logger, _run.Id, _flow.Name, _run.Attempt, delay, $"in the compensation of {entry}: {ex.GetType().Name}: {ex.Message}");
                await Task.Delay(delay, _context.Clock, cancellationToken).ConfigureAwait(false);
                continue;
            }

            _compensations.Undone(entry);
            var current = context.State;
            await SaveCheckpointAsync(
                $"undo-{stage.Name}", _position, statusMessage, () => Serialize(current, $"save the compensation of {entry}"),
                new SaveExtras(outbox, transaction), cancellationToken).ConfigureAwait(false);
            return current;
        }
    }
}

/// <summary>A compensation failed for good: the run fails with this error and keeps its checkpoint, undone stages off its list.</summary>
internal sealed class CompensationFailedException(string message, Exception inner) : CairnException(message, inner)
{
    public override bool IsPermanent => true;
}
