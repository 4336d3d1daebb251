namespace Cairn.Runs;

/// <summary>
/// Which runs to list, newest first (by creation time, then run ID), one page at a time: what both the operator API
/// (<see cref="RunOperator.ListRunsAsync"/>) and the stores (<see cref="Storage.IRunQueries.ListRunsAsync"/>) take.
/// </summary>
public sealed record RunQuery
{
    /// <summary>Only runs in one of these statuses. Default: any status.</summary>
    public IReadOnlyCollection<RunStatus>? Statuses { get; init; }

    /// <summary>Only runs of this flow. Default: any flow.</summary>
    public string? FlowName { get; init; }

    /// <summary>Only runs with this recovery ID. Default: any.</summary>
    public string? RecoveryId { get; init; }

    /// <summary>Only runs created at or after this time. Default: no lower bound.</summary>
    public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Only runs created before this time. Default: no upper bound.</summary>
    public DateTimeOffset? CreatedTo { get; init; }

    /// <summary>
    /// Only runs that come after this one in the order of the list (created earlier, or at the same time with a lower
    /// run ID): the <see cref="RunPage.NextCursor"/> of the previous page. Default: from the newest.
    /// </summary>
    public RunCursor? After { get; init; }

    /// <summary>The most runs returned; the operator API takes 1 to 10,000. Default 100.</summary>
    public int Limit { get; init; } = 100;
}
