namespace Cairn.Runs;

/// <summary>One entry in a run's history.</summary>
/// <param name="Time">When it happened (the store's clock).</param>
/// <param name="Kind">What happened.</param>
/// <param name="Attempt">The attempt it belongs to (0 before the first attempt).</param>
/// <param name="Message">A short human description, worded by <see cref="Storage.StoreRules"/> for the events stores record.</param>
public sealed record RunEvent(DateTimeOffset Time, RunEventKind Kind, int Attempt, string Message)
{
    /// <summary>
    /// The recovery point the event is about, as a field of its own: the point passed
    /// (<see cref="RunEventKind.RecoveryPointPassed"/>), resumed from (<see cref="RunEventKind.Started"/> of a resumed
    /// attempt), interrupted after (<see cref="RunEventKind.Interrupted"/>) or re-run from
    /// (<see cref="RunEventKind.RerunRequested"/>); null when there is none, and for events stored before it was recorded.
    /// </summary>
    public string? RecoveryPoint { get; init; }
}
