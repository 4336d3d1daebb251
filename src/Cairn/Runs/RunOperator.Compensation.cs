namespace Cairn.Runs;

public sealed partial class RunOperator
{
    /// <summary>
    /// Cancels an unfinished run with compensation: the compensations of the stages it completed up to its last checkpoint
    /// run in reverse order (<see cref="StepsBuilder{TState, TSelf}.CompensateWith"/>) on the engine that claims it next,
    /// and the run ends <see cref="RunStatus.Compensated"/>. A run with nothing to compensate is simply cancelled; a run
    /// already compensating is left as it is. An attempt of the run still running is fenced off: stages it completed
    /// after its last checkpoint are not known to the store, and are not compensated.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="message">Who asked and why: the event's message. Default <c>cancelled with compensation by request</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is completed, cancelled or compensated; nothing changed.</exception>
    /// <exception cref="CheckpointCorruptedException">The run's compensation log cannot be read; nothing changed.</exception>
    public async Task<RunInfo> CancelWithCompensationAsync(RunId runId, string? message = null, CancellationToken cancellationToken = default)
    {
        var why = message ?? "cancelled with compensation by request";
        var data = await _store.GetRecoveryDataAsync(runId, cancellationToken).ConfigureAwait(false);
        CompensationLog log;
        try
        {
            log = CompensationLog.Parse(data.Checkpoint?.Compensation);
        }
        catch (FormatException ex)
        {
            throw new CheckpointCorruptedException($"The compensation log of run {runId} cannot be read: {ex.Message}. Nothing changed.");
        }

        if (log.Undoing)
        {
            return await GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
        }

        if (log.Entries.Count == 0)
        {
            return await CancelAsync(runId, $"{why}; no completed stage has a compensation", cancellationToken).ConfigureAwait(false);
        }

        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        log.StartUndoing(why);
        var run = await _operations.RequestCompensationAsync(runId, log.ToText()!, $"{why}: compensating {string.Join(", ", Enumerable.Reverse(log.Entries))}", cancellationToken)
            .ConfigureAwait(false);
        if (_host is not null)
        {
            await _host.CancelRunningAsync(runId).ConfigureAwait(false);
            _host.Changed(runId);
        }

        return RunInfo.From(run);
    }
}
