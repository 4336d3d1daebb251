namespace Cairn.CrashTest.Harness;

/// <summary>
/// The flows a crash test runs: 2 to 6 stages, explicit and implicit recovery points, stages that wait, hash or grow
/// the state. Run <c>i</c> of a round uses flow <c>i mod 5</c> (shifted by the seed), with a fixed recovery ID.
/// </summary>
internal static class CrashFlowMix
{
    // Each flow's steps in order: "stage:work" for a stage, "@name" for a recovery point.
    public static IReadOnlyList<CrashFlowPlan> Plans { get; } =
    [
        Plan("crash-ledger", implicitRecovery: false, "debit:async @debited credit:cpu fee:plain @settled notify:async"),
        Plan("crash-etl", implicitRecovery: true, "extract:async clean:cpu enrich:grow aggregate:cpu load:async publish:plain"),
        Plan("crash-archive", implicitRecovery: true, "collect:grow compress:cpu @compressed store:grow verify:async"),
        Plan("crash-sparse", implicitRecovery: false, "step-1:plain step-2:async step-3:cpu @midway step-4:async step-5:grow"),
        Plan("crash-short", implicitRecovery: false, "ping:async @pinged pong:plain"),
    ];

    public static CrashFlowPlan PlanFor(int seed, int run) => Plans[(int)(((long)run + (seed & int.MaxValue)) % Plans.Count)];

    public static CrashFlowPlan? Find(string flowName) => Plans.FirstOrDefault(p => p.Name == flowName);

    public static string RecoveryId(int round, int run) => $"round-{round}-run-{run}";

    private static CrashFlowPlan Plan(string name, bool implicitRecovery, string steps) =>
        CrashFlowPlan.Define(name, implicitRecovery, [.. steps.Split(' ').Select(step => step[0] == '@'
            ? CrashStep.Point(step[1..])
            : CrashStep.Stage(step[..step.IndexOf(':', StringComparison.Ordinal)], Enum.Parse<StageWork>(step[(step.IndexOf(':', StringComparison.Ordinal) + 1)..], ignoreCase: true)))]);
}
