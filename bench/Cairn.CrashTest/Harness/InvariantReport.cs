namespace Cairn.CrashTest.Harness;

/// <summary>What the final invariant check counted and found.</summary>
internal sealed record InvariantReport(
    IReadOnlyList<Violation> Violations,
    int RunsCompleted,
    int CheckpointsVerified,
    int CheckpointsCommitted,
    int JournalStageStarts,
    int JournalCommits,
    int TornJournalLines);
