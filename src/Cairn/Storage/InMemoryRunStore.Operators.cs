

namespace Cairn.Storage;

public sealed partial class InMemoryRunStore
{
    /// <inheritdoc />
    public Task<RunRecord?> FindRunAsync(string flowName, string recoveryId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_runs.Values.FirstOrDefault(e => e.Run.FlowName == flowName && e.Run.RecoveryId == recoveryId)?.Run);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_lock)
        {
            IReadOnlyList<RunRecord> runs =
            [
                .. _runs.Values.Select(e => e.Run)
                    .Where(r => query.Statuses is null || query.Statuses.Contains(r.Status))
                    .Where(r => query.FlowName is null || r.FlowName == query.FlowName)
                    .Where(r => query.RecoveryId is null || r.RecoveryId == query.RecoveryId)
                    .Where(r => query.CreatedFrom is null || r.CreatedAt >= query.CreatedFrom)
                    .Where(r => query.CreatedTo is null || r.CreatedAt < query.CreatedTo)
                    .Where(r => query.After is not { } after
                        || r.CreatedAt < after.CreatedAt || (r.CreatedAt == after.CreatedAt && r.Id.Value.CompareTo(after.RunId.Value) < 0))
                    .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id.Value)
                    .Take(query.Limit),
            ];
            return Task.FromResult(runs);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<RunEvent> events = _runs.TryGetValue(runId, out var entry) ? [.. entry.Events] : [];
            return Task.FromResult(events);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<CheckpointSummary>>(_runs.TryGetValue(runId, out var entry) ? Summarize(entry) : []);
        }
    }

    /// <inheritdoc />
    public Task<Checkpoint?> GetCheckpointAsync(RunId runId, long sequence, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_runs.TryGetValue(runId, out var entry) ? entry.Checkpoints.Find(c => c.Sequence == sequence) : null);
        }
    }

    /// <inheritdoc />
    public Task<ReadOnlyMemory<byte>?> GetResultAsync(RunId runId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_runs.TryGetValue(runId, out var entry) && entry.Result is { } result ? (ReadOnlyMemory<byte>?)result : null);
        }
    }

    /// <inheritdoc />
    public Task<RunRecord> RequestRerunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        Transition(runId, StoreRules.EnsureCanRerun, StoreRules.Rerun,
            run => new RunEvent(run.UpdatedAt, RunEventKind.RerunRequested, run.Attempt, message) { RecoveryPoint = run.LastRecoveryPoint });

    /// <inheritdoc />
    public Task<RunRecord> RequestRerunFromAsync(
        RunId runId, long sequence, byte[]? state, string message, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var entry = Get(runId);
            StoreRules.EnsureCanRerun(runId, entry.Run.Status);
            var source = entry.Checkpoints.Find(c => c.Sequence == sequence)
                ?? throw new CheckpointNotFoundException(runId, $"checkpoint {sequence}", Summarize(entry));
            var now = _timeProvider.GetUtcNow();
            var copySequence = Math.Max(entry.Run.CheckpointSequence, entry.Checkpoints[^1].Sequence) + 1;
            var copy = state is { } edited
                ? source with { Sequence = copySequence, State = edited.ToArray(), Checksum = StoreRules.StateChecksum(edited), CreatedAt = now }
                : source with { Sequence = copySequence, CreatedAt = now };
            entry.Checkpoints.Add(copy);
            entry.Run = StoreRules.RerunFrom(entry.Run, copy.Position, copy.RecoveryPoint, copy.StatusMessage, copySequence, now);
            entry.Events.Add(new RunEvent(now, RunEventKind.RerunRequested, entry.Run.Attempt,
                StoreRules.RerunFromMessage(message, source.RecoveryPoint, source.Sequence, copySequence, state is not null))
            {
                RecoveryPoint = source.RecoveryPoint,
            });
            return Task.FromResult(entry.Run);
        }
    }

    /// <inheritdoc />
    public Task<RunRecord> CancelRunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        Transition(runId, StoreRules.EnsureCanCancel, StoreRules.Cancelled,
            run => new RunEvent(run.UpdatedAt, RunEventKind.Cancelled, run.Attempt, message));

    /// <summary>An operator's change of a whole run: checked, applied at the store's time, and recorded as one event.</summary>
    private Task<RunRecord> Transition(
        RunId runId, Action<RunId, RunStatus> ensure, Func<RunRecord, DateTimeOffset, RunRecord> change, Func<RunRecord, RunEvent> recorded)
    {
        lock (_lock)
        {
            var entry = Get(runId);
            ensure(runId, entry.Run.Status);
            entry.Run = change(entry.Run, _timeProvider.GetUtcNow());
            entry.Events.Add(recorded(entry.Run));
            return Task.FromResult(entry.Run);
        }
    }

    /// <inheritdoc />
    public Task<RunRecord> RequestCompensationAsync(RunId runId, string compensation, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(compensation);
        lock (_lock)
        {
            var entry = Get(runId);
            StoreRules.EnsureCanCompensate(runId, entry.Run.Status);
            var latest = entry.Checkpoints.Count > 0 ? entry.Checkpoints[^1] : throw new CheckpointNotFoundException(runId, "checkpoint", []);
            var now = _timeProvider.GetUtcNow();
            var copySequence = Math.Max(entry.Run.CheckpointSequence, latest.Sequence) + 1;
            entry.Checkpoints.Add(latest with { Sequence = copySequence, Compensation = compensation, CreatedAt = now });
            entry.Run = StoreRules.CompensationRequested(entry.Run, copySequence, now);
            entry.Events.Add(new RunEvent(now, RunEventKind.CompensationRequested, entry.Run.Attempt, message) { RecoveryPoint = latest.RecoveryPoint });
            return Task.FromResult(entry.Run);
        }
    }

    /// <inheritdoc />
    public Task<int> PurgeAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var purged = _runs.Values
                .Where(e => e.Run.Status.IsFinished() && e.Run.FinishedAt < finishedBefore)
                .Select(e => e.Run.Id)
                .ToList();
            foreach (var id in purged)
            {
                _runs.Remove(id);
            }

            var gone = purged.ToHashSet();
            _outbox.RemoveAll(r => gone.Contains(r.Message.RunId));

            return Task.FromResult(purged.Count);
        }
    }
}
