namespace Cairn.CrashTest.Harness;

/// <summary>
/// The flows a crash test runs: 2 to 6 stages, explicit and implicit recovery points, stages that wait, hash or grow
/// the state. Run <c>i</c> of a round uses flow <c>i mod 5</c> (shifted by the seed), with a fixed recovery ID.
/// </summary>
internal static class CrashFlowMix
{
    public static IReadOnlyList<CrashFlowPlan> Plans { get; } =
    [
        CrashFlowPlan.Define("crash-ledger", implicitRecovery: false,
            CrashStep.Stage("debit", StageWork.Async),
            CrashStep.Point("debited"),
            CrashStep.Stage("credit", StageWork.Cpu),
            CrashStep.Stage("fee", StageWork.Plain),
            CrashStep.Point("settled"),
            CrashStep.Stage("notify", StageWork.Async)),
        CrashFlowPlan.Define("crash-etl", implicitRecovery: true,
            CrashStep.Stage("extract", StageWork.Async),
            CrashStep.Stage("clean", StageWork.Cpu),
            CrashStep.Stage("enrich", StageWork.Grow),
            CrashStep.Stage("aggregate", StageWork.Cpu),
            CrashStep.Stage("load", StageWork.Async),
            CrashStep.Stage("publish", StageWork.Plain)),
        CrashFlowPlan.Define("crash-archive", implicitRecovery: true,
            CrashStep.Stage("collect", StageWork.Grow),
            CrashStep.Stage("compress", StageWork.Cpu),
            CrashStep.Point("compressed"),
            CrashStep.Stage("store", StageWork.Grow),
            CrashStep.Stage("verify", StageWork.Async)),
        CrashFlowPlan.Define("crash-sparse", implicitRecovery: false,
            CrashStep.Stage("step-1", StageWork.Plain),
            CrashStep.Stage("step-2", StageWork.Async),
            CrashStep.Stage("step-3", StageWork.Cpu),
            CrashStep.Point("midway"),
            CrashStep.Stage("step-4", StageWork.Async),
            CrashStep.Stage("step-5", StageWork.Grow)),
        CrashFlowPlan.Define("crash-short", implicitRecovery: false,
            CrashStep.Stage("ping", StageWork.Async),
            CrashStep.Point("pinged"),
            CrashStep.Stage("pong", StageWork.Plain)),
    ];

    public static CrashFlowPlan PlanFor(int seed, int run) => Plans[(int)(((long)run + (seed & int.MaxValue)) % Plans.Count)];

    public static CrashFlowPlan? Find(string flowName) => Plans.FirstOrDefault(p => p.Name == flowName);

    public static string RecoveryId(int round, int run) => $"round-{round}-run-{run}";
}
