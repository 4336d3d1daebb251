namespace Cairn.Runs;

public sealed partial class RunOperator
{
    /// <summary>
    /// Counts the runs that match the query's filters (status, flow, recovery ID, time range), by status: the numbers a
    /// console's status list shows above it. Statuses without runs are left out; the query's cursor and limit do not apply.
    /// </summary>
    /// <param name="query">The filters.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<IReadOnlyDictionary<RunStatus, long>> CountRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return _queries.CountRunsAsync(query, cancellationToken);
    }

    /// <summary>
    /// The scheduled purge of the engine that hosts this operator API (<see cref="CairnEngine.Operator"/>); null for an
    /// operator built from a store alone, which cannot know what the engines on that store are configured to purge.
    /// </summary>
    public PurgeSettings? PurgeSettings => _host?.PurgeSettings;
}
