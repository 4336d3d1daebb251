using System.Text.Json;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// The end-of-test check: every run completed with the state its stages must produce, no stage ran again after a
/// recovery point behind it was committed, no attempt failed, and the file and its checkpoints are sound.
/// </summary>
internal static class InvariantChecker
{
    private const int RecoveryPointPassed = (int)RunEventKind.RecoveryPointPassed;
    private const int RetryScheduled = (int)RunEventKind.RetryScheduled;
    private const int Failed = (int)RunEventKind.Failed;

    public static InvariantReport Check(string storePath, string journalPath, IReadOnlyList<ExpectedRun> expected)
    {
        var inspection = StoreInspector.Inspect(storePath, "at the end");
        var violations = new List<Violation>(inspection.Violations);
        Dictionary<Guid, StoredRun> runs;
        List<StoredEvent> events;
        using (var connection = StoreInspector.OpenReadOnly(storePath))
        {
            runs = StoreRows.ReadRuns(connection, "");
            events = StoreRows.ReadEvents(connection, "", RunEventKind.RecoveryPointPassed, RunEventKind.RetryScheduled, RunEventKind.Failed);
        }

        var completed = CheckRuns(runs, expected, violations);
        var (journal, torn) = CrashJournal.Read(journalPath);
        foreach (var error in events.Where(e => e.Kind is RetryScheduled or Failed))
        {
            var run = runs.GetValueOrDefault(error.RunId);
            violations.Add(new Violation(ViolationKind.UnexpectedError, $"{run?.RecoveryId ?? error.RunId.ToString("N")}, attempt {error.Attempt}: {error.Message}"));
        }

        CheckRepeatedStages(runs, journal, events, violations);
        return new InvariantReport(
            violations,
            completed,
            inspection.CheckpointsVerified,
            events.Count(e => e.Kind == RecoveryPointPassed),
            journal.Count(e => e.IsStage),
            journal.Count(e => e.IsCommit),
            torn);
    }

    private static int CheckRuns(Dictionary<Guid, StoredRun> runs, IReadOnlyList<ExpectedRun> expected, List<Violation> violations)
    {
        var byRecoveryId = runs.Values.ToDictionary(r => (r.FlowName, r.RecoveryId));
        var completed = 0;
        foreach (var run in expected)
        {
            if (!byRecoveryId.Remove((run.Plan.Name, run.RecoveryId), out var stored))
            {
                violations.Add(new Violation(ViolationKind.RunLost, $"{run.RecoveryId} ({run.Plan.Name}) is not in the store"));
                continue;
            }

            if (stored.Status != RunStatus.Completed)
            {
                violations.Add(new Violation(ViolationKind.RunLost,
                    $"{run.RecoveryId} ({run.Plan.Name}, run {stored.Id:N}) ended {stored.Status}{(stored.LastError is null ? "" : $": {stored.LastError}")}"));
                continue;
            }

            completed++;
            if (stored.Result is null)
            {
                violations.Add(new Violation(ViolationKind.WrongFinalState, $"{run.RecoveryId} ({run.Plan.Name}) is completed but has no result"));
                continue;
            }

            CrashState? actual;
            try
            {
                actual = JsonSerializer.Deserialize<CrashState>(stored.Result);
            }
            catch (JsonException ex)
            {
                violations.Add(new Violation(ViolationKind.WrongFinalState, $"{run.RecoveryId} ({run.Plan.Name}): the result cannot be read: {ex.Message}"));
                continue;
            }

            var differences = Compare(actual!, run.Plan.Expected(run.Input));
            if (differences.Count > 0)
            {
                violations.Add(new Violation(ViolationKind.WrongFinalState, $"{run.RecoveryId} ({run.Plan.Name}): {string.Join("; ", differences)}"));
            }
        }

        foreach (var extra in byRecoveryId.Values)
        {
            violations.Add(new Violation(ViolationKind.UnexpectedError, $"the store holds a run nobody created: {extra.RecoveryId} ({extra.FlowName})"));
        }

        return completed;
    }

    /// <summary>
    /// For each run, a stage at step <c>i</c> must never start once a checkpoint at a recovery point at step <c>j &gt; i</c> is
    /// committed. Commits are known from the journal (ordered with the stage starts) and from the store's events
    /// (ordered by attempt: a commit in attempt <c>a</c> precedes every stage start of a later attempt), which also
    /// covers a worker killed between a commit and its journal line.
    /// </summary>
    public static void CheckRepeatedStages(Dictionary<Guid, StoredRun> runs, List<JournalEntry> journal, List<StoredEvent> events, List<Violation> violations)
    {
        var reported = new HashSet<(Guid, string)>();
        var commitsByRun = events.Where(e => e.Kind == RecoveryPointPassed && e.Point is not null).ToLookup(e => e.RunId);
        foreach (var entries in journal.GroupBy(e => e.RunId))
        {
            if (!runs.TryGetValue(entries.Key, out var run) || CrashFlowMix.Find(run.FlowName) is not { } plan)
            {
                continue;
            }

            JournalEntry? newest = null;
            var newestIndex = -1;
            foreach (var entry in entries)
            {
                var index = plan.IndexOf(entry.Name);
                if (entry.IsCommit)
                {
                    if (index > newestIndex)
                    {
                        (newest, newestIndex) = (entry, index);
                    }
                }
                else if (entry.IsStage && index >= 0 && index < newestIndex && reported.Add((run.Id, entry.Name)))
                {
                    violations.Add(new Violation(ViolationKind.StageRepeated,
                        $"{run.RecoveryId} ({plan.Name}): stage '{entry.Name}' (step {index}) started in attempt {entry.Attempt} (journal line {entry.Line}) " +
                        $"after recovery point '{newest!.Name}' (step {newestIndex}) was committed in attempt {newest.Attempt} (journal line {newest.Line})"));
                }
            }

            foreach (var commit in commitsByRun[run.Id])
            {
                var pointIndex = plan.IndexOf(commit.Point!);
                foreach (var entry in entries.Where(e => e.IsStage && e.Attempt > commit.Attempt))
                {
                    var index = plan.IndexOf(entry.Name);
                    if (index >= 0 && index < pointIndex && reported.Add((run.Id, entry.Name)))
                    {
                        violations.Add(new Violation(ViolationKind.StageRepeated,
                            $"{run.RecoveryId} ({plan.Name}): stage '{entry.Name}' (step {index}) started in attempt {entry.Attempt} (journal line {entry.Line}) " +
                            $"after the store recorded recovery point '{commit.Point}' (step {pointIndex}) as passed in attempt {commit.Attempt}"));
                    }
                }
            }
        }
    }

    public static List<string> Compare(CrashState actual, CrashState expected)
    {
        var differences = new List<string>();
        if (!actual.Trail.SequenceEqual(expected.Trail, StringComparer.Ordinal))
        {
            differences.Add($"stages applied [{string.Join(", ", actual.Trail)}], expected [{string.Join(", ", expected.Trail)}]");
        }

        if (actual.Counter != expected.Counter)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"counter {actual.Counter}, expected {expected.Counter}"));
        }

        if (actual.Digest != expected.Digest)
        {
            differences.Add($"digest '{actual.Digest}', expected '{expected.Digest}'");
        }

        if (!actual.Blocks.SequenceEqual(expected.Blocks, StringComparer.Ordinal))
        {
            differences.Add($"{actual.Blocks.Count} blocks of {actual.Blocks.Sum(b => b.Length):N0} characters, expected {expected.Blocks.Count} of {expected.Blocks.Sum(b => b.Length):N0} (or different content)");
        }

        if (actual.Flow != expected.Flow || actual.Round != expected.Round || actual.Run != expected.Run)
        {
            differences.Add($"belongs to {actual.Flow} round {actual.Round} run {actual.Run}");
        }

        return differences;
    }
}
