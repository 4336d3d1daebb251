namespace Cairn.Storage;

/// <summary>
/// The durable store behind an engine: runs, their checkpoints and events. The engine never speaks SQL and a store
/// never knows about stages. Every store passes the shared store-contract test suite.
/// </summary>
/// <remarks>
/// Members added later arrive as virtual members with a safe default, so existing stores keep working.
/// Every write to a running run (checkpoint, transition, completion) is atomic and fenced by the lease epoch: when the
/// run's epoch is no longer the lease's, or the run is not <see cref="RunStatus.Running"/>, the write changes nothing
/// and throws <see cref="RunOwnershipLostException"/>. Times come from the store's clock.
/// What operators and tools read and do sits behind two more small contracts every store implements:
/// <see cref="IRunQueries"/> and <see cref="IRunOperations"/>. People and tools use the operator API
/// (<see cref="Runs.RunOperator"/>), which needs only a store.
/// </remarks>
public abstract class RunStore : IAsyncDisposable
{
    /// <summary>Creates or upgrades the schema. Safe to call more than once and from several processes.</summary>
    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates a <see cref="RunStatus.Pending"/> run, due now, with a <see cref="RunEventKind.Created"/> event — unless
    /// a run of the same flow with the same recovery ID exists, which is then returned unchanged. With
    /// <see cref="NewRun.ClaimFor"/>, a run created now is <see cref="RunStatus.Running"/> under that owner at once —
    /// attempt 1, epoch 1, a lease, and a <see cref="RunEventKind.Started"/> event after the
    /// <see cref="RunEventKind.Created"/> one — exactly as if <see cref="ClaimDueRunsAsync"/> had claimed it.
    /// </summary>
    public abstract Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken);

    /// <summary>Gets a run, or null when it does not exist.</summary>
    public abstract Task<RunRecord?> GetRunAsync(RunId runId, CancellationToken cancellationToken);

    /// <summary>Gets a run's input and latest checkpoint.</summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    public abstract Task<RecoveryData> GetRecoveryDataAsync(RunId runId, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <see cref="ClaimRequest.MaxRuns"/> runs of the given flows that are <see cref="RunStatus.Pending"/>,
    /// <see cref="RunStatus.WaitingForRetry"/> or <see cref="RunStatus.Interrupted"/> and due (<see cref="RunRecord.DueAt"/>
    /// null or not later than now), oldest due first.
    /// Each claimed run becomes <see cref="RunStatus.Running"/> under the owner with a new lease: its epoch and attempt
    /// increase by one, and a <see cref="RunEventKind.Started"/> event is recorded.
    /// </summary>
    public abstract Task<IReadOnlyList<ClaimedRun>> ClaimDueRunsAsync(ClaimRequest request, CancellationToken cancellationToken);

    /// <summary>Extends the leases of every running run the owner holds; returns how many.</summary>
    public abstract Task<int> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>
    /// Commits a checkpoint, fenced: stores it, moves the run's position, last recovery point, status message and
    /// checkpoint sequence to it, records a <see cref="RunEventKind.RecoveryPointPassed"/> event, and keeps only the
    /// newest <paramref name="keep"/> checkpoints of the run — all in one transaction.
    /// </summary>
    /// <exception cref="RunOwnershipLostException">The lease no longer holds.</exception>
    public abstract Task SaveCheckpointAsync(RunLease lease, Checkpoint checkpoint, int keep, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a running run to another status, fenced, and releases its lease; stores the last error, the due time and
    /// the retry count as the transition says, and records its event.
    /// </summary>
    /// <exception cref="RunOwnershipLostException">The lease no longer holds.</exception>
    public abstract Task TransitionAsync(RunLease lease, RunTransition transition, CancellationToken cancellationToken);

    /// <summary>
    /// Completes a running run, fenced: stores the result, deletes the recovery data (input and checkpoints), adds the
    /// <paramref name="outbox"/> messages the last stages added to its outbox, releases the lease and records a
    /// <see cref="RunEventKind.Completed"/> event.
    /// </summary>
    /// <exception cref="RunOwnershipLostException">The lease no longer holds.</exception>
    public abstract Task CompleteRunAsync(
        RunLease lease, ReadOnlyMemory<byte> result, string message, IReadOnlyList<OutboxMessage> outbox, CancellationToken cancellationToken);

    /// <summary>
    /// Marks runs whose owner is gone as <see cref="RunStatus.Interrupted"/>, with an event, so they resume from their
    /// last checkpoint: running runs whose lease expired, and — when <paramref name="exclusive"/> says the caller holds
    /// the worker lock the store gave it under <paramref name="owner"/> and has claimed nothing since — every running run
    /// that lock proves abandoned: all of them when the lock covers the whole store (one engine per SQLite file), the
    /// runs of <paramref name="owner"/> when it covers one node name (an earlier process with the same name is gone).
    /// Each becomes due <paramref name="resumeAfter"/> from now (zero: at once). Returns how many.
    /// </summary>
    public abstract Task<int> InterruptAbandonedRunsAsync(string owner, bool exclusive, TimeSpan resumeAfter, CancellationToken cancellationToken);

    /// <summary>
    /// Attaches an engine to the store before it claims anything: takes the store's worker lock where it has one, and
    /// subscribes to its wake-ups where it has them. Dispose the result, when the engine stops, to release both.
    /// </summary>
    /// <remarks>
    /// The worker lock of the embedded SQLite store covers the whole file (one engine per file); the PostgreSQL store's
    /// covers one node name (one live process per name), so that a node restarted under its name resumes its runs
    /// without waiting for their leases to expire. Wake-ups are hints that due work may exist, because another engine on
    /// the same store created a run, asked for a re-run or found runs of a dead node. Engines keep polling
    /// (<see cref="CairnOptions.PollInterval"/>): a wake-up only shortens the wait, and one may be missed, duplicated or
    /// spurious. The default has neither: engines coordinate through leases alone.
    /// </remarks>
    /// <param name="owner">The engine's node name.</param>
    /// <param name="wakeUp">
    /// Called on each wake-up, on any thread, possibly concurrently; must be cheap and thread-safe, and must not throw.
    /// </param>
    /// <param name="cancellationToken">Cancels attaching, not the attachment.</param>
    /// <exception cref="StoreUnavailableException">Another engine holds the worker lock.</exception>
    public virtual ValueTask<StoreAttachment> AttachAsync(string owner, Action wakeUp, CancellationToken cancellationToken) =>
        ValueTask.FromResult(StoreAttachment.None);

    /// <summary>Releases the store's resources.</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
