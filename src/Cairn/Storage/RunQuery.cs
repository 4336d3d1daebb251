namespace Cairn.Storage;

/// <summary>A filter over the runs in a store, newest first.</summary>
public sealed record RunQuery
{
    /// <summary>Only runs in one of these statuses. Default: any status.</summary>
    public IReadOnlyCollection<RunStatus>? Statuses { get; init; }

    /// <summary>Only runs of this flow. Default: any flow.</summary>
    public string? FlowName { get; init; }

    /// <summary>The most runs returned. Default 100.</summary>
    public int Limit { get; init; } = 100;
}
