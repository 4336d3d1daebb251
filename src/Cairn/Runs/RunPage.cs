namespace Cairn.Runs;

/// <summary>One page of runs, newest first.</summary>
/// <param name="Runs">The runs on the page.</param>
/// <param name="NextCursor">Where the next page starts (<see cref="RunQuery.After"/>), or null when this page is the last.</param>
public sealed record RunPage(IReadOnlyList<RunInfo> Runs, RunCursor? NextCursor);
