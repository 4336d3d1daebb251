namespace Cairn.Storage;

/// <summary>Where a page of runs ended: the last run's creation time and ID, in the list's order (newest first).</summary>
/// <param name="CreatedAt">The creation time of the last run on the page.</param>
/// <param name="RunId">The ID of the last run on the page.</param>
public sealed record RunCursor(DateTimeOffset CreatedAt, RunId RunId)
{
    /// <summary>The cursor after <paramref name="run"/>.</summary>
    public static RunCursor After(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RunCursor(run.CreatedAt, run.Id);
    }
}
