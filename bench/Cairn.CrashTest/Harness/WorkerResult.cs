namespace Cairn.CrashTest.Harness;

/// <summary>How one worker process ended.</summary>
internal sealed record WorkerResult(
    int ProcessId,
    bool Killed,
    int ExitCode,
    bool Finished,
    bool Hung,
    string? Hit,
    TimeSpan Lifetime,
    IReadOnlyList<string> Unfinished,
    string Errors);
