namespace Cairn.Runs;

/// <summary>One page of runs, newest first.</summary>
/// <param name="Runs">The runs on the page.</param>
/// <param name="NextCursor">The cursor of the next page (<see cref="RunFilter.Cursor"/>), or null when this page is the last.</param>
public sealed record RunPage(IReadOnlyList<RunInfo> Runs, string? NextCursor);
