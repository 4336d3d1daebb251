using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// A run the load generator starts: its recovery ID and flow, and its input — one of the crash test's linear flows
/// (<see cref="Linear"/>), a <c>chaos-order</c> (<see cref="Order"/>) or a <c>chaos-batch</c> (<see cref="Batch"/>).
/// </summary>
internal sealed record ChaosRunPlan(int Index, string RecoveryId, string Flow, CrashFlowPlan? Linear, CrashState? LinearInput, ChaosOrder? Order, ChaosBatch? Batch);
