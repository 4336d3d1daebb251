using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

internal static partial class ChaosChecker
{
    /// <summary>
    /// Every <c>chaos-order</c> run has each effect row at most once, and exactly the ones its end implies (completed:
    /// record and confirm; compensated: record and its undo). The messages committed with those effects (and with the
    /// completion) were delivered at least once, all deliveries of one under one ID, and nothing else was delivered;
    /// the outbox is empty.
    /// </summary>
    internal static void CheckEffectsAndMessages(
        List<(ChaosRunPlan Plan, StoredRun Run)> soakRuns, Dictionary<Guid, StoredRun> runs, Dictionary<(Guid Run, string Effect), int> effects,
        List<JournalEntry> deliveries, List<string> outboxLeft, List<Violation> violations)
    {
        foreach (var ((id, effect), count) in effects)
        {
            if (count > 1)
            {
                violations.Add(new Violation(ViolationKind.EffectNotOnce, $"{NameOf(runs, id)}: effect '{effect}' committed {count} times"));
            }

            if (!runs.TryGetValue(id, out var owner) || owner.FlowName != ChaosOrderFlow.Name)
            {
                violations.Add(new Violation(ViolationKind.EffectNotOnce, $"{NameOf(runs, id)}: effect '{effect}' belongs to no {ChaosOrderFlow.Name} run"));
            }
        }

        var delivered = deliveries.GroupBy(d => (d.RunId, d.Name)).ToDictionary(g => g.Key, g => g.Select(d => d.MessageId!.Value).Distinct().ToList());
        var expected = new HashSet<(Guid, string)>();
        foreach (var (_, run) in soakRuns.Where(r => r.Plan.Order is not null && r.Run.Status.IsFinished()))
        {
            int Rows(string effect) => effects.GetValueOrDefault((run.Id, effect));
            var (record, confirm, undo) = (Rows(ChaosOrderFlow.RecordEffect), Rows(ChaosOrderFlow.ConfirmEffect), Rows(ChaosOrderFlow.UndoEffect));
            var wanted = run.Status switch
            {
                RunStatus.Completed => (1, 1, 0),
                RunStatus.Compensated => (1, 0, 1),
                _ => (record, confirm, undo),
            };
            if ((record, confirm, undo) != wanted)
            {
                violations.Add(new Violation(ViolationKind.EffectNotOnce,
                    $"{Name(run)} ended {run.Status} with effect rows record {record}, confirm {confirm}, undo {undo}; expected {wanted.Item1}, {wanted.Item2}, {wanted.Item3}"));
            }

            if (record > 0)
            {
                expected.Add((run.Id, ChaosOrderFlow.Recorded));
            }

            if (confirm > 0)
            {
                expected.Add((run.Id, ChaosOrderFlow.Confirmed));
            }

            if (run.Status == RunStatus.Completed)
            {
                expected.Add((run.Id, ChaosOrderFlow.Thanked));
            }
        }

        foreach (var (id, key) in expected.Where(m => !delivered.ContainsKey(m)))
        {
            violations.Add(new Violation(ViolationKind.MessageLost, $"{NameOf(runs, id)}: message '{key}' was committed and never delivered"));
        }

        foreach (var ((id, key), ids) in delivered)
        {
            if (ids.Count > 1)
            {
                violations.Add(new Violation(ViolationKind.MessageWrong, $"{NameOf(runs, id)}: message '{key}' was delivered under {ids.Count} IDs ({string.Join(", ", ids)})"));
            }

            if (!expected.Contains((id, key)) && runs.TryGetValue(id, out var run) && run.Status.IsFinished())
            {
                violations.Add(new Violation(ViolationKind.MessageWrong, $"{NameOf(runs, id)}: message '{key}' was delivered and its run ended {run.Status} without committing it"));
            }
        }

        violations.AddRange(outboxLeft.Select(left => new Violation(ViolationKind.MessageLost, left)));
    }

    private static string NameOf(Dictionary<Guid, StoredRun> runs, Guid id) => runs.TryGetValue(id, out var run) ? Name(run) : $"run {id:N} (not in the store)";
}
