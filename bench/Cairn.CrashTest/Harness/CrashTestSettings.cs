namespace Cairn.CrashTest.Harness;

/// <summary>The settings of one <c>cairn crash-test</c>.</summary>
internal sealed record CrashTestSettings(
    string StorePath,
    string JournalPath,
    int Kills,
    int Runs,
    int Seed,
    int Concurrency,
    TimeSpan MaxDelay,
    bool Broken);
