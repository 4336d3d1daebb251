namespace Cairn.Storage;

/// <summary>
/// A store that keeps everything in memory: a real implementation of the store contract for tests and
/// experiments. Nothing survives the process.
/// </summary>
public sealed partial class InMemoryRunStore : RunStore, IRunQueries, IRunOperations, IOutboxStore, IFlowCatalog, ISignalStore, IScheduleStore
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<RunId, Entry> _runs = [];

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The store's clock. Default <see cref="TimeProvider.System"/>.</param>
    public InMemoryRunStore(TimeProvider? timeProvider = null) => _timeProvider = timeProvider ?? TimeProvider.System;

    /// <inheritdoc />
    public override Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        lock (_lock)
        {
            var existing = _runs.Values.FirstOrDefault(e => e.Run.FlowName == run.FlowName && e.Run.RecoveryId == run.RecoveryId);
            if (existing is not null)
            {
                return Task.FromResult(new CreateRunResult(existing.Run, Created: false));
            }

            var now = _timeProvider.GetUtcNow();
            var entry = new Entry
            {
                Run = StoreRules.NewRunRecord(run, now),
                Input = run.Input.ToArray(),
            };
            entry.Events.Add(new RunEvent(now, RunEventKind.Created, 0, StoreRules.CreatedMessage(run.RecoveryId)));
            RunLease? lease = null;
            if (run.ClaimFor is { } claim)
            {
                var message = StoreRules.StartedMessage(entry.Run, claim.Owner);
                entry.Run = StoreRules.Claimed(entry.Run, claim.Owner, now + claim.LeaseDuration, now);
                entry.Events.Add(new RunEvent(now, RunEventKind.Started, 1, message));
                lease = new RunLease(run.Id, claim.Owner, 1);
            }

            _runs.Add(run.Id, entry);
            return Task.FromResult(new CreateRunResult(entry.Run, Created: true, lease));
        }
    }

    /// <inheritdoc />
    public override Task<RunRecord?> GetRunAsync(RunId runId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_runs.TryGetValue(runId, out var entry) ? entry.Run : null);
        }
    }

    /// <inheritdoc />
    public override Task<RecoveryData> GetRecoveryDataAsync(RunId runId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var entry = Get(runId);
            // byte[] converts to ReadOnlyMemory<byte> even when null (giving an empty, non-null value): test explicitly.
            return Task.FromResult(new RecoveryData(entry.Input is { } input ? (ReadOnlyMemory<byte>?)input : null, entry.Checkpoints.LastOrDefault()));
        }
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<ClaimedRun>> ClaimDueRunsAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_lock)
        {
            var now = _timeProvider.GetUtcNow();
            var due = _runs.Values
                .Where(e => request.FlowNames.Contains(e.Run.FlowName))
                .Where(e => StoreRules.IsClaimable(e.Run.Status) && (request.ResumeInterrupted || e.Run.Status != RunStatus.Interrupted))
                .Where(e => e.Run.DueAt is null || e.Run.DueAt <= now)
                .OrderBy(e => e.Run.DueAt ?? e.Run.UpdatedAt)
                .Take(request.MaxRuns)
                .ToList();
            var claimed = new List<ClaimedRun>(due.Count);
            foreach (var entry in due)
            {
                var message = StoreRules.StartedMessage(entry.Run, request.Owner);
                entry.Run = StoreRules.Claimed(entry.Run, request.Owner, now + request.LeaseDuration, now);
                entry.Events.Add(new RunEvent(now, RunEventKind.Started, entry.Run.Attempt, message) { RecoveryPoint = entry.Run.LastRecoveryPoint });
                claimed.Add(new ClaimedRun(entry.Run, new RunLease(entry.Run.Id, request.Owner, entry.Run.LeaseEpoch)));
            }

            return Task.FromResult<IReadOnlyList<ClaimedRun>>(claimed);
        }
    }

    /// <inheritdoc />
    public override Task<int> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = _timeProvider.GetUtcNow();
            var count = 0;
            foreach (var entry in _runs.Values.Where(e => e.Run.Status == RunStatus.Running && e.Run.Owner == owner))
            {
                entry.Run = entry.Run with { LeaseExpiresAt = now + leaseDuration };
                count++;
            }

            return Task.FromResult(count);
        }
    }

    /// <inheritdoc />
    public override Task SaveCheckpointAsync(RunLease lease, Checkpoint checkpoint, int keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        lock (_lock)
        {
            var entry = GetFenced(lease);
            var now = _timeProvider.GetUtcNow();
            entry.Checkpoints.Add(checkpoint with { State = checkpoint.State.ToArray(), CreatedAt = now, Outbox = [], TakesSignal = null });
            AddToOutbox(checkpoint.Outbox, now);
            TakeSignal(entry, checkpoint);
            if (entry.Checkpoints.Count > keep)
            {
                entry.Checkpoints.RemoveRange(0, entry.Checkpoints.Count - keep);
            }

            entry.Run = entry.Run with
            {
                Position = checkpoint.Position.ToString(),
                LastRecoveryPoint = checkpoint.RecoveryPoint,
                StatusMessage = checkpoint.StatusMessage,
                CheckpointSequence = checkpoint.Sequence,
                UpdatedAt = now,
            };
            entry.Events.Add(new RunEvent(now, RunEventKind.RecoveryPointPassed, entry.Run.Attempt,
                StoreRules.RecoveryPointPassedMessage(checkpoint)) { RecoveryPoint = checkpoint.RecoveryPoint });
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public override Task TransitionAsync(RunLease lease, RunTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        lock (_lock)
        {
            var entry = GetFenced(lease);
            var now = _timeProvider.GetUtcNow();
            entry.Run = entry.Run with
            {
                Status = transition.Status,
                LastError = transition.LastError ?? entry.Run.LastError,
                DueAt = transition.RetryAfter is { } after ? now + after : null,
                RetriesUsed = entry.Run.RetriesUsed + (transition.CountsAsRetry ? 1 : 0),
                FinishedAt = transition.Status.IsFinished() ? now : null,
                LeaseExpiresAt = null,
                UpdatedAt = now,
            };
            entry.Events.Add(new RunEvent(now, transition.EventKind, entry.Run.Attempt, transition.Message));
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public override Task CompleteRunAsync(
        RunLease lease, ReadOnlyMemory<byte> result, string message, IReadOnlyList<OutboxMessage> outbox, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        lock (_lock)
        {
            var entry = GetFenced(lease);
            var now = _timeProvider.GetUtcNow();
            AddToOutbox(outbox, now);
            entry.Result = result.ToArray();
            entry.Input = null;
            entry.Checkpoints.Clear();
            entry.Run = entry.Run with
            {
                Status = RunStatus.Completed,
                FinishedAt = now,
                LeaseExpiresAt = null,
                UpdatedAt = now,
            };
            entry.Events.Add(new RunEvent(now, RunEventKind.Completed, entry.Run.Attempt, message));
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public override Task<int> InterruptAbandonedRunsAsync(string owner, bool exclusive, TimeSpan resumeAfter, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = _timeProvider.GetUtcNow();
            var count = 0;
            foreach (var entry in _runs.Values.Where(e => e.Run.Status == RunStatus.Running))
            {
                var abandoned = exclusive || entry.Run.LeaseExpiresAt <= now;
                if (!abandoned)
                {
                    continue;
                }

                var previousOwner = entry.Run.Owner;
                entry.Run = entry.Run with { Status = RunStatus.Interrupted, LeaseExpiresAt = null, DueAt = now + resumeAfter, UpdatedAt = now };
                entry.Events.Add(new RunEvent(now, RunEventKind.Interrupted, entry.Run.Attempt, StoreRules.InterruptedMessage(previousOwner))
                {
                    RecoveryPoint = entry.Run.LastRecoveryPoint,
                });
                count++;
            }

            return Task.FromResult(count);
        }
    }

    private static List<CheckpointSummary> Summarize(Entry entry) =>
    [
        .. Enumerable.Reverse(entry.Checkpoints).Select(c =>
            new CheckpointSummary(c.Sequence, c.Position, c.RecoveryPoint, c.StatusMessage, c.Checksum, c.CreatedAt, c.State.Length)),
    ];

    private Entry Get(RunId runId) => _runs.TryGetValue(runId, out var entry) ? entry : throw new RunNotFoundException(runId);

    private Entry GetFenced(RunLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!_runs.TryGetValue(lease.RunId, out var entry)
            || entry.Run.Status != RunStatus.Running
            || entry.Run.LeaseEpoch != lease.Epoch)
        {
            throw new RunOwnershipLostException(lease);
        }

        return entry;
    }

    private sealed class Entry
    {
        public required RunRecord Run { get; set; }

        public byte[]? Input { get; set; }

        public byte[]? Result { get; set; }

        public List<Checkpoint> Checkpoints { get; } = [];

        public List<RunEvent> Events { get; } = [];

        public List<RunSignal> Signals { get; } = [];
    }
}
