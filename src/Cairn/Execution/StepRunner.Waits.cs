namespace Cairn.Execution;

internal sealed partial class StepRunner<TS>
{
    /// <summary>
    /// When the run began to wait at the step it resumes at: the time of its waiting checkpoint, which the timer and the
    /// signal's timeout count from. Null when the attempt does not resume waiting.
    /// </summary>
    public DateTimeOffset? WaitingSince { get; init; }

    /// <summary>
    /// Runs a <c>Delay</c> or <c>WaitFor</c> step: goes on when its time has come or it takes a signal, runs the timeout
    /// branch when the timeout passed first, or saves a checkpoint at the step and makes the run wait.
    /// </summary>
    /// <param name="wait">The step.</param>
    /// <param name="position">The step's position.</param>
    /// <param name="resumeAt">Empty to reach the step afresh; the waiting or received lane; or a place in the timeout branch.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <exception cref="RunWaitingException">The run waits.</exception>
    /// <exception cref="SignalTimeoutException">The timeout passed and the step has no timeout branch.</exception>
    private async Task ExecuteWaitAsync(WaitStep<TS> wait, FlowPath position, FlowPath resumeAt, CancellationToken cancellationToken)
    {
        var signal = wait as SignalStep<TS>;
        switch (resumeAt)
        {
            case [WaitStep<TS>.ReceivedLane]:
                return;
            case [0, ..] when signal?.OnTimeout is { } resumedBranch:
                await ExecuteSequenceAsync(resumedBranch, new SequenceAt(position, 0), resumeAt[1..], cancellationToken).ConfigureAwait(false);
                return;
        }

        var context = Scope.Context;
        var resumed = resumeAt is [WaitStep<TS>.WaitingLane];
        var now = context.Clock.GetUtcNow();
        var dueAt = wait.DueAt(State, resumed ? WaitingSince ?? now : now);
        var waiting = wait.Describe(dueAt);
        Where = $"waiting {waiting}{WhereSuffix}";
        if (signal is not null && await TakeSignalAsync(signal, position, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        if (dueAt <= now)
        {
            if (signal is null)
            {
                return;
            }

            if (signal.OnTimeout is not { } branch)
            {
                throw new SignalTimeoutException(
                    $"Run {Scope.Run.Id} of flow {Scope.Flow} waited {waiting} and no signal came within its timeout of {signal.Timeout}; " +
                    "the step has no timeout branch, so the run fails. Re-run it to wait again.");
            }

            Where = $"in the timeout branch of signal '{signal.Name}'{WhereSuffix}";
            await ExecuteSequenceAsync(branch, new SequenceAt(position, 0), FlowPath.Start, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!resumed)
        {
            var point = new RecoveryPointStep(wait.Name, $"waiting {waiting}");
            await save(point, position.Append(WaitStep<TS>.WaitingLane), State, point.StatusMessage, new SaveExtras(TakeOutbox()), cancellationToken).ConfigureAwait(false);
        }

        throw new RunWaitingException(dueAt, waiting, signal?.Name);
    }

    /// <summary>
    /// Takes the first signal of the step's name the run has not taken and whose payload reads as the step's type: the
    /// state takes the payload, and a checkpoint after the step records the signal as taken. A payload that cannot be read
    /// is logged and left untaken, for an operator to see.
    /// </summary>
    /// <returns>Whether a signal was taken.</returns>
    private async Task<bool> TakeSignalAsync(SignalStep<TS> step, FlowPath position, CancellationToken cancellationToken)
    {
        var context = Scope.Context;
        var run = Scope.Run;
        var signals = context.Store as ISignalStore
            ?? throw new InvalidOperationException($"Run {run.Id} waits for signal '{step.Name}', but its store ({context.Store.GetType().Name}) keeps no signals.");
        foreach (var candidate in await signals.ListSignalsAsync(run.Id, cancellationToken).ConfigureAwait(false))
        {
            if (candidate.Name != step.Name || candidate.TakenBy is not null)
            {
                continue;
            }

            object? payload;
            try
            {
                payload = step.Read(candidate.Payload.Span, context.Codec.Serializer);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.SignalRejected(context.Logger, run.Id, Scope.Flow.Name, step.Name, candidate.Id, step.PayloadType.Name, ex.Message);
                continue;
            }

            Where = $"taking signal '{step.Name}' (ID {candidate.Id}){WhereSuffix}";
            step.Receive(State, payload);
            var point = new RecoveryPointStep(step.Name, $"signal '{step.Name}' taken");
            await save(point, position.Append(WaitStep<TS>.ReceivedLane), State, point.StatusMessage, new SaveExtras(TakeOutbox(), TakesSignal: candidate.Id), cancellationToken)
                .ConfigureAwait(false);
            Log.SignalTaken(context.Logger, run.Id, Scope.Flow.Name, step.Name, candidate.Id);
            return true;
        }

        return false;
    }
}
