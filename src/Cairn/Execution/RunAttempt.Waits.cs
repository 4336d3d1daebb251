namespace Cairn.Execution;

internal sealed partial class RunAttempt<TState>
{
    /// <summary>How far off a run waiting for a signal without a timeout is due: only the signal (or an operator) wakes it.</summary>
    private static readonly TimeSpan NoTimeout = TimeSpan.FromDays(100 * 365);

    /// <summary>
    /// The run waits for the child run of a detached sub-flow: its attempt ends without using up a retry, and it is due
    /// again after <see cref="CairnOptions.ChildRunCheckInterval"/> unless the child's end wakes it first.
    /// </summary>
    private async Task<string> WaitForChildAsync(WaitingForChildRunException waiting)
    {
        var interval = _context.Options.ChildRunCheckInterval;
        var outcome = await RecordAsync(
            new RunTransition(RunStatus.WaitingForRetry, RunEventKind.RetryScheduled, $"attempt {_run.Attempt} is {waiting.Message}; checking again in {interval} unless the child's end wakes it first")
            {
                RetryAfter = interval,
            },
            "waiting").ConfigureAwait(false);

        // The child may have finished between the check and the transition, when waking this run could not work yet.
        try
        {
            if (await _context.Store.GetRunAsync(waiting.Child, CancellationToken.None).ConfigureAwait(false) is { } child && child.Status.IsFinished())
            {
                await _context.Operations.RequestRerunAsync(_run.Id, $"child run {child.Id} had finished", CancellationToken.None).ConfigureAwait(false);
                _context.Host.Wake();
            }
        }
        catch (Exception ex) when (ex is InvalidRunStateException or RunNotFoundException or StoreUnavailableException)
        {
            Log.ParentNotWoken(_context.Logger, _run.Id, waiting.Child, ex);
        }

        return outcome;
    }

    /// <summary>
    /// The run waits at a <c>Delay</c> or <c>WaitFor</c> step, its state saved: the attempt ends without using up a retry,
    /// and the run is <see cref="RunStatus.Waiting"/> until it is due. A signal that came while the run began to wait
    /// (after its check, before this transition, when the sender could not wake it yet) wakes it now.
    /// </summary>
    private async Task<string> WaitAsync(RunWaitingException waiting)
    {
        var now = _context.Clock.GetUtcNow();
        var after = waiting.DueAt is { } due ? (due > now ? due - now : TimeSpan.Zero) : NoTimeout;
        var outcome = await RecordAsync(
            new RunTransition(RunStatus.Waiting, RunEventKind.Waiting, $"attempt {_run.Attempt} saved its state and waits {waiting.Waiting}") { RetryAfter = after },
            "waiting").ConfigureAwait(false);
        Log.RunWaiting(_context.Logger, _run.Id, _flow.Name, waiting.Waiting);
        if (waiting.Signal is not { } name || outcome != "waiting" || _context.Store is not ISignalStore signals)
        {
            return outcome;
        }

        try
        {
            var kept = await signals.ListSignalsAsync(_run.Id, CancellationToken.None).ConfigureAwait(false);
            if (kept.Any(s => s.Name == name && s.TakenBy is null))
            {
                await _context.Operations.RequestRerunAsync(_run.Id, $"signal '{name}' came while the run began to wait", CancellationToken.None).ConfigureAwait(false);
                _context.Host.Wake();
            }
        }
        catch (Exception ex) when (ex is InvalidRunStateException or RunNotFoundException or StoreUnavailableException)
        {
            // The run moved on (cancelled, woken by the signal's sender); or its timeout, or the engine's polling, wakes it later.
            Log.RunWaiting(_context.Logger, _run.Id, _flow.Name, $"{waiting.Waiting} (its signals could not be checked again: {ex.Message})");
        }

        return outcome;
    }
}
