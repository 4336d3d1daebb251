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

    /// <summary>Gets the run of a flow with a recovery ID, or null.</summary>
    public abstract Task<RunRecord?> FindRunAsync(string flowName, string recoveryId, CancellationToken cancellationToken);

    /// <summary>Lists runs, newest first.</summary>
    public abstract Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>Gets a run's events, oldest first; empty when the run does not exist.</summary>
    public abstract Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken);

    /// <summary>Gets a run's input and latest checkpoint.</summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    public abstract Task<RecoveryData> GetRecoveryDataAsync(RunId runId, CancellationToken cancellationToken);

    /// <summary>Gets a completed run's serialized result, or null when the run has none.</summary>
    public abstract Task<ReadOnlyMemory<byte>?> GetResultAsync(RunId runId, CancellationToken cancellationToken);

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
    /// Completes a running run, fenced: stores the result, deletes the recovery data (input and checkpoints), releases
    /// the lease and records a <see cref="RunEventKind.Completed"/> event.
    /// </summary>
    /// <exception cref="RunOwnershipLostException">The lease no longer holds.</exception>
    public abstract Task CompleteRunAsync(RunLease lease, ReadOnlyMemory<byte> result, string message, CancellationToken cancellationToken);

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
    /// An operator or caller asks a failed, waiting, interrupted or cancelled run to run again: it becomes
    /// <see cref="RunStatus.Pending"/> and due now, keeps its checkpoints and retry count, and records a
    /// <see cref="RunEventKind.RerunRequested"/> event.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is pending, running or completed.</exception>
    public abstract Task<RunRecord> RequestRerunAsync(RunId runId, string message, CancellationToken cancellationToken);

    /// <summary>
    /// Gets a run's kept checkpoints, newest first, without their states: the recovery points an operator can re-run the
    /// run from with <see cref="RequestRerunFromAsync(RunId, long, byte[], string, CancellationToken)"/>. Empty when the run keeps none or does not exist.
    /// </summary>
    /// <remarks>
    /// How many a run keeps is <see cref="CairnOptions.CheckpointsToKeep"/>. The default lists the latest checkpoint
    /// alone, read with <see cref="GetRecoveryDataAsync"/>; stores that keep more override it.
    /// </remarks>
    public virtual async Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken)
    {
        RecoveryData data;
        try
        {
            data = await GetRecoveryDataAsync(runId, cancellationToken).ConfigureAwait(false);
        }
        catch (RunNotFoundException)
        {
            return [];
        }

        return data.Checkpoint is { } c
            ? [new CheckpointSummary(c.Sequence, c.Position, c.RecoveryPoint, c.StatusMessage, c.Checksum, c.CreatedAt, c.State.Length)]
            : [];
    }

    /// <summary>
    /// An operator asks a failed, waiting, interrupted or cancelled run to run again from one of its kept checkpoints,
    /// optionally with an edited state. In one transaction the store appends a new checkpoint, numbered after the run's
    /// latest, that copies the chosen one's position, recovery point and status message with either its state and
    /// checksum or <paramref name="state"/> and a fresh checksum (<see cref="StateChecksum"/>); moves the run's position,
    /// last recovery point, status message and checkpoint sequence to it; makes the run
    /// <see cref="RunStatus.Pending"/> and due now, keeping its retry count; and records a
    /// <see cref="RunEventKind.RerunRequested"/> event worded by <see cref="RerunFromMessage"/>. No checkpoint is deleted:
    /// the next one the run saves prunes to the engine's limit. Because the copy is the latest checkpoint, the attempt
    /// that claims the run next resumes from it like from any other (<see cref="GetRecoveryDataAsync"/>).
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The sequence number of the kept checkpoint to go back to (<see cref="GetCheckpointsAsync"/>).</param>
    /// <param name="state">
    /// The edited serialized state, or null to keep the checkpoint's. The store does not read it. An array rather than a
    /// <see cref="ReadOnlyMemory{T}"/>: a null array would silently become an empty memory, an empty edited state.
    /// </param>
    /// <param name="message">Who asked and how, the start of the event's message: <c>re-run requested from the command line</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The run as it is now.</returns>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is pending, running or completed; nothing changed.</exception>
    /// <exception cref="CheckpointNotFoundException">The run keeps no checkpoint <paramref name="sequence"/>; nothing changed.</exception>
    /// <exception cref="NotSupportedException">The store cannot do this (the default, for stores written before it existed).</exception>
    public virtual Task<RunRecord> RequestRerunFromAsync(
        RunId runId, long sequence, byte[]? state, string message, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} cannot re-run a run from a chosen checkpoint; only from its last recovery point.");

    /// <summary>
    /// Re-runs a run from the kept checkpoint <paramref name="options"/> choose — the newest one saved at
    /// <see cref="RerunOptions.RecoveryPoint"/>, the one numbered <see cref="RerunOptions.CheckpointSequence"/>, or else
    /// the latest — with <see cref="RerunOptions.State"/> if given, as
    /// <see cref="RequestRerunFromAsync(RunId, long, byte[], string, CancellationToken)"/> does. The state
    /// is not checked: an engine checks it when it registers the run's flow
    /// (<see cref="CairnEngine.RerunAsync(RunId, RerunOptions, CancellationToken)"/>), or when the run resumes.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is pending, running or completed; nothing changed.</exception>
    /// <exception cref="CheckpointNotFoundException">The run keeps no such checkpoint; nothing changed.</exception>
    /// <exception cref="ArgumentException">The options name both a recovery point and a sequence number.</exception>
    public async Task<RunRecord> RequestRerunFromAsync(RunId runId, RerunOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var run = await GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
        EnsureCanRerun(runId, run.Status);
        var kept = await GetCheckpointsAsync(runId, cancellationToken).ConfigureAwait(false);
        var chosen = ChooseCheckpoint(runId, kept, options);
        if (options.State is not null && chosen.HoldsBranchStates)
        {
            throw new StateSerializationException(
                $"Run {runId} cannot resume from '{chosen.RecoveryPoint}' (checkpoint {chosen.Sequence}) with an edited state: the checkpoint is inside a " +
                "parallel step or sub-flow and saves the states of all its branches together. Re-run from it without an edited state, or from a " +
                "recovery point outside it. Nothing changed.");
        }

        return await RequestRerunFromAsync(runId, chosen.Sequence, options.State, options.Message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The kept checkpoint (newest first) that <paramref name="options"/> choose.</summary>
    /// <exception cref="CheckpointNotFoundException">The run keeps no such checkpoint.</exception>
    internal static CheckpointSummary ChooseCheckpoint(RunId runId, IReadOnlyList<CheckpointSummary> kept, RerunOptions options)
    {
        if (options.RecoveryPoint is not null && options.CheckpointSequence is not null)
        {
            throw new ArgumentException("Choose the checkpoint either by recovery point or by sequence number, not both.", nameof(options));
        }

        CheckpointSummary? chosen;
        string wanted;
        if (options.RecoveryPoint is { } point)
        {
            chosen = kept.FirstOrDefault(c => c.RecoveryPoint == point); // Newest first: the latest pass of the point.
            wanted = $"checkpoint at recovery point '{point}'";
        }
        else if (options.CheckpointSequence is { } sequence)
        {
            chosen = kept.FirstOrDefault(c => c.Sequence == sequence);
            wanted = $"checkpoint {sequence}";
        }
        else
        {
            chosen = kept.Count > 0 ? kept[0] : null;
            wanted = "checkpoint";
        }

        return chosen ?? throw new CheckpointNotFoundException(runId, wanted, kept);
    }

    /// <summary>
    /// Cancels an unfinished run: it becomes <see cref="RunStatus.Cancelled"/>, its epoch increases so that its owner's
    /// next write fails, its checkpoints are kept, and a <see cref="RunEventKind.Cancelled"/> event is recorded.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is completed or already cancelled.</exception>
    public abstract Task<RunRecord> CancelRunAsync(RunId runId, string message, CancellationToken cancellationToken);

    /// <summary>Deletes completed, failed and cancelled runs that finished before <paramref name="finishedBefore"/>, with all their data. Returns how many.</summary>
    public abstract Task<int> PurgeAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the store's worker lock when the store has one, or returns null when engines coordinate through leases alone.
    /// The embedded SQLite store's lock covers the whole file (one engine per file); the PostgreSQL store's covers one node
    /// name (one live process per name), so that a node restarted under its name resumes its runs without waiting for
    /// their leases to expire. Dispose the result to release the lock.
    /// </summary>
    /// <exception cref="StoreUnavailableException">Another engine holds the lock.</exception>
    public virtual ValueTask<IAsyncDisposable?> AcquireWorkerLockAsync(string owner, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IAsyncDisposable?>(null);

    /// <summary>
    /// Subscribes to the store's wake-ups, when it has them: hints that due work may exist, because another engine on the
    /// same store created a run, asked for a re-run or found runs of a dead node. Engines keep polling
    /// (<see cref="CairnOptions.PollInterval"/>): a wake-up only shortens the wait, and one may be missed, duplicated or
    /// spurious. Returns null (the default) when the store has no wake-ups; dispose the result to unsubscribe.
    /// </summary>
    /// <param name="wakeUp">
    /// Called on each wake-up, on any thread, possibly concurrently; must be cheap and thread-safe, and must not throw.
    /// </param>
    /// <param name="cancellationToken">Cancels the subscribing, not the subscription.</param>
    public virtual ValueTask<IAsyncDisposable?> SubscribeToWakeUpsAsync(Action wakeUp, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IAsyncDisposable?>(null);

    /// <summary>Releases the store's resources.</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Throws unless a run in <paramref name="status"/> can be re-run.</summary>
    protected static void EnsureCanRerun(RunId runId, RunStatus status)
    {
        if (status is not (RunStatus.Failed or RunStatus.WaitingForRetry or RunStatus.Interrupted or RunStatus.Cancelled))
        {
            throw new InvalidRunStateException(runId, status, "re-run", "failed, waiting, interrupted or cancelled");
        }
    }

    /// <summary>The engine's check before it prepares a re-run, so that it reports a wrong status before anything else.</summary>
    internal static void CheckCanRerun(RunId runId, RunStatus status) => EnsureCanRerun(runId, status);

    /// <summary>Throws unless a run in <paramref name="status"/> can be cancelled.</summary>
    protected static void EnsureCanCancel(RunId runId, RunStatus status)
    {
        if (status is RunStatus.Completed or RunStatus.Cancelled)
        {
            throw new InvalidRunStateException(runId, status, "cancelled", "unfinished or failed");
        }
    }

    /// <summary>The checksum of a state, as <see cref="Checkpoint.Checksum"/> holds it (SHA-256, lower-case hex).</summary>
    protected static string StateChecksum(ReadOnlySpan<byte> state) => Checksum.Compute(state);

    /// <summary>The message of the <see cref="RunEventKind.RerunRequested"/> event <see cref="RequestRerunFromAsync(RunId, long, byte[], string, CancellationToken)"/> records.</summary>
    /// <param name="message">The caller's message.</param>
    /// <param name="recoveryPoint">The chosen checkpoint's recovery point.</param>
    /// <param name="sequence">The chosen checkpoint's sequence number.</param>
    /// <param name="copySequence">The sequence number of its copy.</param>
    /// <param name="edited">Whether the copy holds an edited state.</param>
    protected static string RerunFromMessage(string message, string recoveryPoint, long sequence, long copySequence, bool edited) =>
        string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{message}: resumes from recovery point '{recoveryPoint}' (checkpoint {sequence}, copied as checkpoint {copySequence}) with {(edited ? "an edited state" : "its saved state")}");

    /// <summary>The message of the <see cref="RunEventKind.Started"/> event a claim records.</summary>
    protected static string StartedMessage(RunRecord run, string owner)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.LastRecoveryPoint is null
            ? $"attempt {run.Attempt + 1} started on {owner}"
            : $"attempt {run.Attempt + 1} resumed on {owner} from recovery point '{run.LastRecoveryPoint}'";
    }
}
