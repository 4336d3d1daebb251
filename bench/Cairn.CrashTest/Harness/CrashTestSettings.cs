namespace Cairn.CrashTest.Harness;

/// <summary>The settings of one crash test.</summary>
internal sealed record CrashTestSettings(
    string StorePath,
    string JournalPath,
    int Kills,
    int Runs,
    int Seed,
    int Concurrency,
    TimeSpan MaxDelay,
    bool Broken);
