using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// The chaos soak's flow mix: the crash test's five linear flows and the two chaos flows (with their child and
/// sub-flow), which between them cover loops, parallel branches, inline and detached sub-flows, transactional stages,
/// the outbox, compensation, durable timers, signals and named streams in a storage folder. Run <c>i</c> of a soak is
/// a linear flow for even <c>i</c>, a <c>chaos-order</c> or a <c>chaos-batch</c> for odd ones; what it is follows from
/// the seed and <c>i</c> alone.
/// </summary>
internal static class ChaosFlowMix
{
    /// <summary>The flows a node hosts, each stage journaling itself first into <paramref name="journal"/> (none: a flow only to start runs of).</summary>
    public static IReadOnlyList<FlowDefinition> Flows(CrashJournal? journal)
    {
        var started = new ChaosStageJournal(journal);
        return
        [
            .. CrashFlowMix.Plans.Select(plan => plan.Build((context, _) =>
            {
                started.Started(context);
                return Task.CompletedTask;
            })),
            ChaosOrderFlow.Create(started),
            ChaosBatchFlow.Create(started),
        ];
    }

    /// <summary>Where the steps of a chaos flow sit, for the check of repeated stages; null for the linear flows, checked by their plans.</summary>
    public static ChaosLanes? LanesOf(string flow) => flow switch
    {
        ChaosOrderFlow.Name or ChaosOrderFlow.ShipmentName => ChaosOrderFlow.Lanes,
        ChaosBatchFlow.Name => ChaosBatchFlow.Lanes,
        _ => null,
    };

    public static ChaosRunPlan PlanFor(int seed, int index)
    {
        var recoveryId = $"chaos-{index}";
        // Not HashCode.Combine: it is seeded per process, and a plan must be the same in every process and every replay.
        var random = new Random(unchecked((seed * 1_000_003) + index));
        if (index % 2 == 0)
        {
            var plan = CrashFlowMix.PlanFor(seed, index / 2);
            return new ChaosRunPlan(index, recoveryId, plan.Name, plan, plan.Input(seed, 0, index), null, null);
        }

        if (index % 4 == 1)
        {
            var roll = random.Next(100);
            var order = new ChaosOrder
            {
                Key = recoveryId,
                Decision = roll < 50 ? "approve" : roll < 75 ? "decline" : "none",
                Flaky = roll < 15,
            };
            return new ChaosRunPlan(index, recoveryId, ChaosOrderFlow.Name, null, null, order, null);
        }

        return new ChaosRunPlan(index, recoveryId, ChaosBatchFlow.Name, null, null, null, ChaosBatchFlow.Input(recoveryId, 2 + random.Next(3)));
    }
}
