namespace Cairn.CrashTest.Harness;

/// <summary>The figures and violations of one crash test; written as JSON with <c>--json</c>.</summary>
internal sealed record CrashTestReport
{
    public required int Seed { get; init; }

    public required bool Broken { get; init; }

    public required int KillsRequested { get; init; }

    public required int Kills { get; init; }

    public required IReadOnlyDictionary<KillMoment, int> KillsByMoment { get; init; }

    public required int Rounds { get; init; }

    public required int RunsPerRound { get; init; }

    public required int Runs { get; init; }

    public required int RunsCompleted { get; init; }

    public required int Concurrency { get; init; }

    public required int WorkerProcesses { get; init; }

    public int Restarts => Math.Max(0, WorkerProcesses - 1);

    public required int StagesStarted { get; init; }

    public required int CheckpointsCommitted { get; init; }

    public required int CheckpointsJournaled { get; init; }

    public required int StoreChecks { get; init; }

    public required int CheckpointsVerified { get; init; }

    public required int Sabotaged { get; init; }

    public required int TornJournalLines { get; init; }

    public required double DurationSeconds { get; init; }

    public required IReadOnlyDictionary<ViolationKind, int> ViolationsByKind { get; init; }

    public required IReadOnlyList<Violation> Violations { get; init; }
}
