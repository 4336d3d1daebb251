using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Tests.Support;

/// <summary>
/// A store with wake-ups over an in-memory store: the test plays the other process, creating runs in the inner store
/// and waking the subscriber by hand.
/// </summary>
public sealed class WakeUpRunStore(InMemoryRunStore inner) : RunStore, IRunQueries, IRunOperations
{
    private readonly TaskCompletionSource _claimed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action? _wakeUp;

    /// <summary>Completes once a claim has returned: after it, the engine waits for a wake-up or its next poll.</summary>
    public Task FirstClaim => _claimed.Task;

    public InMemoryRunStore Inner => inner;

    public int Subscriptions { get; private set; }

    public int ActiveSubscriptions { get; private set; }

    /// <summary>Calls the subscriber, as a notification from another process would.</summary>
    public void WakeUp() => (_wakeUp ?? throw new InvalidOperationException("Nobody subscribed."))();

    public override ValueTask<StoreAttachment> AttachAsync(string owner, Action wakeUp, CancellationToken cancellationToken)
    {
        _wakeUp = wakeUp;
        Subscriptions++;
        ActiveSubscriptions++;
        return ValueTask.FromResult(new StoreAttachment(workerLock: null, new Subscription(this)));
    }

    public override Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public override Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken) => inner.CreateRunAsync(run, cancellationToken);

    public override Task<RunRecord?> GetRunAsync(RunId runId, CancellationToken cancellationToken) => inner.GetRunAsync(runId, cancellationToken);

    public Task<RunRecord?> FindRunAsync(string flowName, string recoveryId, CancellationToken cancellationToken) =>
        inner.FindRunAsync(flowName, recoveryId, cancellationToken);

    /// <summary>Awaited before each listing of runs: a test makes the store hang there.</summary>
    public Func<CancellationToken, Task>? BeforeList { get; set; }

    public async Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        if (BeforeList is { } before)
        {
            await before(cancellationToken);
        }

        return await inner.ListRunsAsync(query, cancellationToken);
    }

    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken) => inner.GetEventsAsync(runId, cancellationToken);

    public override Task<RecoveryData> GetRecoveryDataAsync(RunId runId, CancellationToken cancellationToken) => inner.GetRecoveryDataAsync(runId, cancellationToken);

    public Task<ReadOnlyMemory<byte>?> GetResultAsync(RunId runId, CancellationToken cancellationToken) => inner.GetResultAsync(runId, cancellationToken);

    /// <summary>Each claim: the most runs it asked for, and how many it got.</summary>
    public List<(int Asked, int Got)> Claims { get; } = [];

    /// <summary>Awaited before each claim: a test makes the store hang there.</summary>
    public Func<CancellationToken, Task>? BeforeClaim { get; set; }

    public override async Task<IReadOnlyList<ClaimedRun>> ClaimDueRunsAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        if (BeforeClaim is { } before)
        {
            await before(cancellationToken);
        }

        var claimed = await inner.ClaimDueRunsAsync(request, cancellationToken);
        lock (Claims)
        {
            Claims.Add((request.MaxRuns, claimed.Count));
        }

        _claimed.TrySetResult();
        return claimed;
    }

    public override Task<int> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        inner.RenewLeasesAsync(owner, leaseDuration, cancellationToken);

    /// <summary>Called before each checkpoint is saved: a test makes the save take time on its fake clock.</summary>
    public Action? BeforeSave { get; set; }

    public override Task SaveCheckpointAsync(RunLease lease, Checkpoint checkpoint, int keep, CancellationToken cancellationToken)
    {
        BeforeSave?.Invoke();
        return inner.SaveCheckpointAsync(lease, checkpoint, keep, cancellationToken);
    }

    public override Task TransitionAsync(RunLease lease, RunTransition transition, CancellationToken cancellationToken) =>
        inner.TransitionAsync(lease, transition, cancellationToken);

    public override Task CompleteRunAsync(RunLease lease, ReadOnlyMemory<byte> result, string message, IReadOnlyList<OutboxMessage> outbox, CancellationToken cancellationToken) =>
        inner.CompleteRunAsync(lease, result, message, outbox, cancellationToken);

    public override Task<int> InterruptAbandonedRunsAsync(string owner, bool exclusive, TimeSpan resumeAfter, CancellationToken cancellationToken) =>
        inner.InterruptAbandonedRunsAsync(owner, exclusive, resumeAfter, cancellationToken);

    public Task<RunRecord> RequestRerunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        inner.RequestRerunAsync(runId, message, cancellationToken);

    public Task<RunRecord> CancelRunAsync(RunId runId, string message, CancellationToken cancellationToken) =>
        inner.CancelRunAsync(runId, message, cancellationToken);

    public Task<int> PurgeAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken) => inner.PurgeAsync(finishedBefore, cancellationToken);

    public Task<RunRecord> RequestCompensationAsync(RunId runId, string compensation, string message, CancellationToken cancellationToken) =>
        inner.RequestCompensationAsync(runId, compensation, message, cancellationToken);

    public Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken) =>
        inner.GetCheckpointsAsync(runId, cancellationToken);

    public Task<Checkpoint?> GetCheckpointAsync(RunId runId, long sequence, CancellationToken cancellationToken) =>
        inner.GetCheckpointAsync(runId, sequence, cancellationToken);

    public Task<RunRecord> RequestRerunFromAsync(RunId runId, long sequence, byte[]? state, string message, CancellationToken cancellationToken) =>
        inner.RequestRerunFromAsync(runId, sequence, state, message, cancellationToken);

    private sealed class Subscription(WakeUpRunStore store) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            store.ActiveSubscriptions--;
            return ValueTask.CompletedTask;
        }
    }
}
