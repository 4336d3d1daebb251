namespace Cairn.Storage;

/// <summary>
/// What operators and tools read from a store, beside what the engine reads through <see cref="RunStore"/>: lists of
/// runs, a run's events, its kept checkpoints and its result. Every store implements it; people and tools use it through
/// the operator API (<see cref="RunOperator"/>).
/// </summary>
public interface IRunQueries
{
    /// <summary>Gets the run of a flow with a recovery ID, or null.</summary>
    Task<RunRecord?> FindRunAsync(string flowName, string recoveryId, CancellationToken cancellationToken);

    /// <summary>
    /// Lists runs that match the query, newest first (by creation time, then run ID): at most
    /// <see cref="RunQuery.Limit"/>, and only those after <see cref="RunQuery.After"/> when it is set.
    /// </summary>
    Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Counts the runs that match the query's filters, by status (statuses without runs are left out); its cursor and
    /// limit do not apply. The default pages through <see cref="ListRunsAsync"/>; stores count in the database.
    /// </summary>
    async Task<IReadOnlyDictionary<RunStatus, long>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var counts = new Dictionary<RunStatus, long>();
        var page = query with { After = null, Limit = 10_000 };
        while (true)
        {
            var runs = await ListRunsAsync(page, cancellationToken).ConfigureAwait(false);
            foreach (var run in runs)
            {
                counts[run.Status] = counts.GetValueOrDefault(run.Status) + 1;
            }

            if (runs.Count < page.Limit)
            {
                return counts;
            }

            page = page with { After = new RunCursor(runs[^1].CreatedAt, runs[^1].Id) };
        }
    }

    /// <summary>Gets a run's events, oldest first; empty when the run does not exist.</summary>
    Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken);

    /// <summary>
    /// Gets a run's kept checkpoints, newest first, without their states: the recovery points an operator can re-run the
    /// run from (<see cref="IRunOperations.RequestRerunFromAsync"/>). Empty when the run keeps none or does not exist.
    /// How many a run keeps is <see cref="CairnOptions.CheckpointsToKeep"/>.
    /// </summary>
    Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken);

    /// <summary>
    /// Gets one of a run's kept checkpoints with its state, as stored (its checksum is not checked here), or null when
    /// the run keeps no checkpoint with that sequence number or does not exist.
    /// </summary>
    Task<Checkpoint?> GetCheckpointAsync(RunId runId, long sequence, CancellationToken cancellationToken);

    /// <summary>Gets a completed run's serialized result, or null when the run has none.</summary>
    Task<ReadOnlyMemory<byte>?> GetResultAsync(RunId runId, CancellationToken cancellationToken);
}
