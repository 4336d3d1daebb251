namespace Cairn.Runs;

/// <summary>Which runs to list (<see cref="RunOperator.ListRunsAsync"/>), newest first, one page at a time.</summary>
public sealed record RunFilter
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

    /// <summary>The most runs on a page, 1 to 10,000. Default 100.</summary>
    public int Limit { get; init; } = 100;

    /// <summary>The <see cref="RunPage.NextCursor"/> of the previous page; null for the first page.</summary>
    public string? Cursor { get; init; }
}
