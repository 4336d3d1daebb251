using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

internal static partial class ChaosChecker
{
    /// <summary>
    /// No stage ran again behind a committed checkpoint. The linear flows are checked by their plans, from the journals and
    /// the store's events (<see cref="InvariantChecker.CheckRepeatedStages"/>); the chaos flows from the journals, by lane:
    /// a commit in an attempt covers the places (stage and iterations) that ran before it in that attempt in the lanes it
    /// covers (<see cref="ChaosLanes"/>), and a covered place must not start in a later attempt.
    /// </summary>
    internal static void CheckRepeatedStages(Dictionary<Guid, StoredRun> runs, List<JournalEntry> ordered, List<StoredEvent> events, List<Violation> violations)
    {
        InvariantChecker.CheckRepeatedStages(runs, ordered, [.. events.Where(e => e.Kind == (int)RunEventKind.RecoveryPointPassed)], violations);
        foreach (var entries in ordered.GroupBy(e => e.RunId))
        {
            if (!runs.TryGetValue(entries.Key, out var run) || ChaosFlowMix.LanesOf(run.FlowName) is not { } lanes)
            {
                continue;
            }

            var executions = new List<(JournalEntry Entry, string Lane)>();
            var covered = new Dictionary<string, (JournalEntry Stage, JournalEntry Commit)>(StringComparer.Ordinal);
            var reported = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in entries)
            {
                if (entry.IsCommit)
                {
                    if (lanes.LaneOf(entry.Name) is not { } pointLane)
                    {
                        continue;
                    }

                    foreach (var (stage, lane) in executions)
                    {
                        if (stage.Attempt == entry.Attempt && ChaosLanes.Covers(pointLane, lane))
                        {
                            covered.TryAdd(stage.Name, (stage, entry));
                        }
                    }

                    continue;
                }

                if (covered.TryGetValue(entry.Name, out var before) && before.Stage.Attempt < entry.Attempt && reported.Add(entry.Name))
                {
                    violations.Add(new Violation(ViolationKind.StageRepeated,
                        $"{Name(run)}: stage '{entry.Name}' started in attempt {entry.Attempt} after it ran in attempt {before.Stage.Attempt} " +
                        $"and '{before.Commit.Name}' covering it committed in attempt {before.Commit.Attempt}"));
                }

                executions.Add((entry, lanes.LaneOf(ChaosStageJournal.StageOf(entry.Name)) ?? ""));
            }
        }
    }
}
