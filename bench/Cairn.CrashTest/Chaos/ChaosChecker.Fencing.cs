using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

internal static partial class ChaosChecker
{
    // What only the attempt that owns a run writes; Interrupted (written by the node that found the lease expired, with
    // the old attempt), Started, Signalled and the operators' events are not.
    private static readonly HashSet<int> AttemptWrites =
    [
        (int)RunEventKind.RecoveryPointPassed, (int)RunEventKind.RetryScheduled, (int)RunEventKind.Failed, (int)RunEventKind.Completed,
        (int)RunEventKind.Compensating, (int)RunEventKind.Compensated, (int)RunEventKind.CompensationFailed, (int)RunEventKind.Waiting,
    ];

    /// <summary>
    /// Fencing, from the store's events: once an attempt of a run has started, the store takes no write of an earlier
    /// attempt (a node frozen past its lease writes on when it thaws: every such write must be refused). And from the
    /// journals: every checkpoint a node was told had committed is in the store.
    /// </summary>
    internal static void CheckFencing(Dictionary<Guid, StoredRun> runs, List<StoredEvent> events, List<JournalEntry> ordered, List<Violation> violations)
    {
        foreach (var history in events.GroupBy(e => e.RunId))
        {
            var newest = 0;
            foreach (var e in history)
            {
                if (e.Kind == (int)RunEventKind.Started)
                {
                    newest = Math.Max(newest, e.Attempt);
                }
                else if (AttemptWrites.Contains(e.Kind) && e.Attempt < newest)
                {
                    violations.Add(new Violation(ViolationKind.WriteAfterTakeover,
                        $"{NameOf(runs, e.RunId)}: event {e.Id} ({(RunEventKind)e.Kind}: {e.Message}) of attempt {e.Attempt} was stored after attempt {newest} had started"));
                }
            }
        }

        var passed = events.Where(e => e.Kind == (int)RunEventKind.RecoveryPointPassed).Select(e => (e.RunId, e.Point, e.Attempt)).ToHashSet();
        foreach (var commit in ordered.Where(e => e.IsCommit && runs.ContainsKey(e.RunId)))
        {
            if (!passed.Contains((commit.RunId, commit.Name, commit.Attempt)))
            {
                violations.Add(new Violation(ViolationKind.CommitLost,
                    $"{NameOf(runs, commit.RunId)}: the checkpoint at '{commit.Name}' of attempt {commit.Attempt} was committed for its node, and the store has no record of it"));
            }
        }
    }
}
