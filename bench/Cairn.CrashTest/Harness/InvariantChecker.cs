using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cairn.Runs;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// The end-of-test check: every run completed with the state its stages must produce, no stage ran again after a
/// recovery point behind it was committed, no attempt failed, and the file and its checkpoints are sound.
/// </summary>
internal static partial class InvariantChecker
{
    private const int RecoveryPointPassed = (int)RunEventKind.RecoveryPointPassed;
    private const int RetryScheduled = (int)RunEventKind.RetryScheduled;
    private const int Failed = (int)RunEventKind.Failed;

    public static InvariantReport Check(string storePath, string journalPath, IReadOnlyList<ExpectedRun> expected)
    {
        var inspection = StoreInspector.Inspect(storePath, "at the end");
        var violations = new List<Violation>(inspection.Violations);
        var runs = ReadRuns(storePath);
        var completed = CheckRuns(runs, expected, violations);

        var (journal, torn) = CrashJournal.Read(journalPath);
        var events = ReadEvents(storePath);
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
            journal.Count(e => !e.IsCommit),
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
    private static void CheckRepeatedStages(Dictionary<Guid, StoredRun> runs, List<JournalEntry> journal, List<StoredEvent> events, List<Violation> violations)
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
                else if (index >= 0 && index < newestIndex && reported.Add((run.Id, entry.Name)))
                {
                    violations.Add(new Violation(ViolationKind.StageRepeated,
                        $"{run.RecoveryId} ({plan.Name}): stage '{entry.Name}' (step {index}) started in attempt {entry.Attempt} (journal line {entry.Line}) " +
                        $"after recovery point '{newest!.Name}' (step {newestIndex}) was committed in attempt {newest.Attempt} (journal line {newest.Line})"));
                }
            }

            foreach (var commit in commitsByRun[run.Id])
            {
                var pointIndex = plan.IndexOf(commit.Point!);
                foreach (var entry in entries.Where(e => !e.IsCommit && e.Attempt > commit.Attempt))
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

    private static List<string> Compare(CrashState actual, CrashState expected)
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

    private static Dictionary<Guid, StoredRun> ReadRuns(string path)
    {
        using var connection = StoreInspector.OpenReadOnly(path);
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT r.run_id, r.flow_name, r.recovery_id, r.status, r.last_error, d.result " +
            "FROM runs r LEFT JOIN run_data d ON d.run_id = r.run_id";
        using var reader = command.ExecuteReader();
        var runs = new Dictionary<Guid, StoredRun>();
        while (reader.Read())
        {
            var id = Guid.ParseExact(reader.GetString(0), "N");
            runs[id] = new StoredRun(
                id,
                reader.GetString(1),
                reader.GetString(2),
                (RunStatus)reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5));
        }

        return runs;
    }

    private static List<StoredEvent> ReadEvents(string path)
    {
        using var connection = StoreInspector.OpenReadOnly(path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT run_id, kind, attempt, message, recovery_point FROM events WHERE kind IN ($passed, $retry, $failed) ORDER BY id";
        command.Parameters.AddWithValue("$passed", RecoveryPointPassed);
        command.Parameters.AddWithValue("$retry", RetryScheduled);
        command.Parameters.AddWithValue("$failed", Failed);
        using var reader = command.ExecuteReader();
        var events = new List<StoredEvent>();
        while (reader.Read())
        {
            var message = reader.GetString(3);
            var kind = reader.GetInt32(1);
            var point = kind != RecoveryPointPassed ? null
                : !reader.IsDBNull(4) ? reader.GetString(4)
                : PassedMessage().Match(message) is { Success: true } match ? match.Groups[1].Value : null;
            events.Add(new StoredEvent(Guid.ParseExact(reader.GetString(0), "N"), kind, reader.GetInt32(2), message, point));
        }

        return events;
    }

    // Rows written before migration 2 have no recovery_point: their point is only in the store's event text for a
    // committed checkpoint, "recovery point 'NAME' passed[: status message]".
    [GeneratedRegex("^recovery point '([^']+)' passed")]
    private static partial Regex PassedMessage();

    private sealed record StoredRun(Guid Id, string FlowName, string RecoveryId, RunStatus Status, string? LastError, byte[]? Result);

    private sealed record StoredEvent(Guid RunId, int Kind, int Attempt, string Message, string? Point);
}
