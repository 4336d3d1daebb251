namespace Cairn;

public sealed partial class CairnEngine
{
    /// <summary>Waits until a run of <paramref name="flow"/> completes, fails or is cancelled, and returns its outcome.</summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    public Task<RunOutcome<TState>> WaitForRunAsync<TState>(Flow<TState> flow, RunId runId, CancellationToken cancellationToken = default) =>
        WaitForRunAsync(flow, runId, wasCompleted: false, takenSignal: null, cancellationToken);

    /// <summary>
    /// Waits until a run is finished: returns its record, or what this engine handed over when it completed the run here.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="takenSignal">
    /// The change signal taken before the run was created, for a run created just now: no need to read it first.
    /// </param>
    /// <param name="cancellationToken">Stops waiting.</param>
    private async Task<(RunRecord? Run, CompletedHere? CompletedHere)> WaitUntilFinishedAsync(
        RunId runId, TaskCompletionSource<CompletedHere?>? takenSignal, CancellationToken cancellationToken)
    {
        var read = takenSignal is null;
        while (true)
        {
            // Take the signal before reading, so a change between the read and the wait is not missed.
            var changed = takenSignal ?? _changes.GetOrAdd(runId, _ => NewChangeSignal());
            takenSignal = null;
            if (read)
            {
                var run = await Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
                if (run.Status.IsFinished())
                {
                    return (run, null);
                }
            }

            read = true;
            try
            {
                if (await changed.Task.WaitAsync(_options.PollInterval, TimeProvider, cancellationToken).ConfigureAwait(false) is { } here)
                {
                    return (null, here);
                }
            }
            catch (TimeoutException)
            {
                // Another process may have changed the run: read it again.
            }
        }
    }

    /// <summary>Waits until the run's record satisfies <paramref name="until"/>, reading it at each change. For tests.</summary>
    internal async Task<RunRecord> WaitForAsync(RunId runId, Func<RunRecord, bool> until, CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = _changes.GetOrAdd(runId, _ => NewChangeSignal());
            var run = await Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
            if (until(run))
            {
                return run;
            }

            try
            {
                await changed.Task.WaitAsync(_options.PollInterval, TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Another process may have changed the run: read it again.
            }
        }
    }

    internal void NotifyChanged(RunId runId)
    {
        if (_changes.TryRemove(runId, out var changed))
        {
            changed.TrySetResult(null);
        }
    }

    /// <summary>Hands a run completed in this engine to its waiters: they need not read its status and result back.</summary>
    internal void NotifyCompleted(RunRecord run, byte[] result)
    {
        if (_changes.TryRemove(run.Id, out var changed))
        {
            changed.TrySetResult(new CompletedHere(run.RecoveryId, result));
        }
    }

    private static TaskCompletionSource<CompletedHere?> NewChangeSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal void Wake() => _wake.Writer.TryWrite(true);

    private async Task<RunOutcome<TState>> WaitForRunAsync<TState>(
        Flow<TState> flow, RunId runId, bool wasCompleted, TaskCompletionSource<CompletedHere?>? takenSignal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var (finished, here) = await WaitUntilFinishedAsync(runId, takenSignal, cancellationToken).ConfigureAwait(false);
        if (here is not null)
        {
            return new RunOutcome<TState>(runId, here.RecoveryId, RunStatus.Completed, DeserializeResult<TState>(runId, flow.Name, here.Result), null, wasCompleted);
        }

        var run = finished!;
        if (run.Status != RunStatus.Completed)
        {
            return new RunOutcome<TState>(run.Id, run.RecoveryId, run.Status, default, run.LastError ?? run.Status.ToString(), wasCompleted);
        }

        var result = await _queries.GetResultAsync(run.Id, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointCorruptedException($"Run {run.Id} of flow '{run.FlowName}' is completed but its result is missing.");
        return new RunOutcome<TState>(run.Id, run.RecoveryId, run.Status, DeserializeResult<TState>(run.Id, run.FlowName, result), null, wasCompleted);
    }

    private TState DeserializeResult<TState>(RunId runId, string flowName, ReadOnlyMemory<byte> result) =>
        Codec.Deserialize<TState>(result.Span, $"The result of run {runId} (flow '{flowName}')", consequence: "");

    /// <summary>Serializes a state or input with the engine's codec (size limit and error wording in one place).</summary>
    internal byte[] SerializeState<TState>(TState value, string what, string consequence) => Codec.Serialize(value, what, consequence);
}
