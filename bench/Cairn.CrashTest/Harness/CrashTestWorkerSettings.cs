namespace Cairn.CrashTest.Harness;

/// <summary>What one crash-test worker process does: which round of runs, on which store, and where it stops itself.</summary>
internal sealed record CrashTestWorkerSettings(
    string StorePath,
    string JournalPath,
    int Round,
    int Runs,
    int Seed,
    int Concurrency,
    KillMoment Target,
    int TargetAt);
