namespace Cairn.CrashTest.Harness;

/// <summary>The figures and violations of one crash test; written as JSON with <c>--json</c>, its properties in this order.</summary>
/// <param name="Restarts">The worker processes started after the first: <paramref name="WorkerProcesses"/> less one.</param>
internal sealed record CrashTestReport(
    int Seed,
    bool Broken,
    int KillsRequested,
    int Kills,
    IReadOnlyDictionary<KillMoment, int> KillsByMoment,
    int Rounds,
    int RunsPerRound,
    int Runs,
    int RunsCompleted,
    int Concurrency,
    int WorkerProcesses,
    int Restarts,
    int StagesStarted,
    int CheckpointsCommitted,
    int CheckpointsJournaled,
    int StoreChecks,
    int CheckpointsVerified,
    int Sabotaged,
    int TornJournalLines,
    double DurationSeconds,
    IReadOnlyDictionary<ViolationKind, int> ViolationsByKind,
    IReadOnlyList<Violation> Violations);
