namespace Cairn.Storage;

public sealed partial class InMemoryRunStore
{
    /// <inheritdoc />
    public Task<bool> SendSignalAsync(RunId runId, RunSignal signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signal);
        lock (_lock)
        {
            var entry = _runs.TryGetValue(runId, out var found) ? found : throw new RunNotFoundException(runId);
            StoreRules.EnsureCanSignal(runId, entry.Run.Status);
            if (entry.Signals.Any(s => s.Id == signal.Id))
            {
                return Task.FromResult(false);
            }

            var now = _timeProvider.GetUtcNow();
            entry.Signals.Add(signal with { Payload = signal.Payload.ToArray(), SentAt = now, TakenBy = null });
            entry.Events.Add(new RunEvent(now, RunEventKind.Signalled, entry.Run.Attempt, StoreRules.SignalledMessage(signal)));
            if (entry.Run.Status == RunStatus.Waiting)
            {
                entry.Run = entry.Run with { DueAt = now, UpdatedAt = now };
            }

            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunSignal>> ListSignalsAsync(RunId runId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<RunSignal>>(_runs.TryGetValue(runId, out var entry) ? [.. entry.Signals] : []);
        }
    }

    // In the checkpoint's write: the signal it takes is marked taken by it.
    private static void TakeSignal(Entry entry, Checkpoint checkpoint)
    {
        var index = checkpoint.TakesSignal is { } id ? entry.Signals.FindIndex(s => s.Id == id) : -1;
        if (index >= 0)
        {
            entry.Signals[index] = entry.Signals[index] with { TakenBy = checkpoint.Sequence };
        }
    }
}
