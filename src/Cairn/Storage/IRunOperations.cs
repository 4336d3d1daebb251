namespace Cairn.Storage;

/// <summary>
/// What operators and tools do to runs in a store: re-run, re-run from a kept checkpoint, cancel, purge. Every store
/// implements it; which run may be re-run or cancelled is decided once, in <see cref="StoreRules"/>, and people and
/// tools use it through the operator API (<see cref="RunOperator"/>).
/// </summary>
public interface IRunOperations
{
    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again: it becomes <see cref="RunStatus.Pending"/> and
    /// due now, keeps its checkpoints and retry count, and records a <see cref="RunEventKind.RerunRequested"/> event.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is pending, running or completed (<see cref="StoreRules.EnsureCanRerun"/>).</exception>
    Task<RunRecord> RequestRerunAsync(RunId runId, string message, CancellationToken cancellationToken);

    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again from one of its kept checkpoints, optionally with
    /// an edited state. In one transaction the store appends a new checkpoint, numbered after the run's latest, that
    /// copies the chosen one's position, recovery point and status message with either its state and checksum or
    /// <paramref name="state"/> and a fresh checksum (<see cref="StoreRules.StateChecksum"/>); moves the run's position,
    /// last recovery point, status message and checkpoint sequence to it; makes the run <see cref="RunStatus.Pending"/>
    /// and due now, keeping its retry count; and records a <see cref="RunEventKind.RerunRequested"/> event worded by
    /// <see cref="StoreRules.RerunFromMessage"/>. No checkpoint is deleted: the next one the run saves prunes to the
    /// engine's limit. Because the copy is the latest checkpoint, the attempt that claims the run next resumes from it like
    /// from any other.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The sequence number of the kept checkpoint to go back to (<see cref="IRunQueries.GetCheckpointsAsync"/>).</param>
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
    Task<RunRecord> RequestRerunFromAsync(RunId runId, long sequence, byte[]? state, string message, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels an unfinished run: it becomes <see cref="RunStatus.Cancelled"/>, its epoch increases so that its owner's
    /// next write fails, its checkpoints are kept, and a <see cref="RunEventKind.Cancelled"/> event is recorded.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is completed or already cancelled (<see cref="StoreRules.EnsureCanCancel"/>).</exception>
    Task<RunRecord> CancelRunAsync(RunId runId, string message, CancellationToken cancellationToken);

    /// <summary>
    /// Asks a run that has not completed, been cancelled or been compensated to undo its completed stages. In one
    /// transaction the store appends a copy of the run's latest checkpoint, numbered after it, whose
    /// <see cref="Checkpoint.Compensation"/> is <paramref name="compensation"/>; moves the run's checkpoint sequence to it;
    /// makes the run <see cref="RunStatus.Pending"/> and due now with its epoch increased, so that an attempt still
    /// running cannot write (<see cref="StoreRules.CompensationRequested"/>); and records a
    /// <see cref="RunEventKind.CompensationRequested"/> event with <paramref name="message"/>. The engine that claims the
    /// run next runs its compensations.
    /// </summary>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is completed, cancelled or compensated (<see cref="StoreRules.EnsureCanCompensate"/>).</exception>
    /// <exception cref="CheckpointNotFoundException">The run has no checkpoint; nothing changed.</exception>
    Task<RunRecord> RequestCompensationAsync(RunId runId, string compensation, string message, CancellationToken cancellationToken);

    /// <summary>Deletes completed, failed, cancelled and compensated runs that finished before <paramref name="finishedBefore"/>, with all their data (their outbox messages too). Returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken);
}
