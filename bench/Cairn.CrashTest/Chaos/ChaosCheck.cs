using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

/// <summary>What the end-of-soak check counted and found.</summary>
/// <param name="Ended">The runs (children included) that ended neither completed nor compensated as planned (a declined order), with their status and error: not violations, but worth a look.</param>
internal sealed record ChaosCheck(
    IReadOnlyList<Violation> Violations,
    ChaosRunCounts Runs,
    IReadOnlyDictionary<string, int> CompletedByFlow,
    ChaosJournalCounts Journals,
    int CheckpointsVerified,
    IReadOnlyList<string> Ended,
    IReadOnlyList<string> Notes);
