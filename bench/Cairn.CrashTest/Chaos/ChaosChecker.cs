using System.Text.Json;
using Cairn.CrashTest.Harness;
using Npgsql;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// The end-of-soak check, from the store (schema <c>cairn</c>), the application table (<c>chaos.effects</c>) and the
/// journals the nodes' stages, checkpoints and publishers wrote: every run ended; completed runs hold the state their
/// stages must produce; no stage ran again behind a committed checkpoint; every transactional effect happened once;
/// every committed outbox message was delivered, under one ID; the store took no write of an attempt after a newer
/// attempt had started, and lost no checkpoint a node was told had committed; every checkpoint passes its checksum.
/// </summary>
internal static partial class ChaosChecker
{
    private const string Tables = "cairn.";

    public static ChaosCheck Check(string connectionString, IReadOnlyList<string> journalPaths, IReadOnlyList<ChaosRunPlan> planned, IReadOnlyDictionary<int, string> notCreated)
    {
        var violations = new List<Violation>();
        var notes = new List<string>();
        Dictionary<Guid, StoredRun> runs;
        List<StoredEvent> events;
        Dictionary<(Guid Run, string Effect), int> effects;
        List<string> outboxLeft;
        int verified;
        using (var connection = new NpgsqlConnection(connectionString))
        {
            connection.Open();
            runs = StoreRows.ReadRuns(connection, Tables);
            events = StoreRows.ReadEvents(connection, Tables);
            effects = ChaosEffects.Count(connection);
            outboxLeft = ReadOutbox(connection);
            verified = StoreRows.VerifyCheckpoints(connection, Tables, "at the end", violations);
        }

        var journal = new List<JournalEntry>();
        var torn = 0;
        foreach (var path in journalPaths)
        {
            var (entries, tornLines) = CrashJournal.Read(path);
            journal.AddRange(entries);
            torn += tornLines;
        }

        // Attempts of a run follow each other, and each ran in one process, whose journal has its lines in order: by
        // attempt, then in journal order, is an order in which each run's lines happened.
        var ordered = journal.Where(e => !e.IsDelivery).OrderBy(e => e.Attempt).ToList();

        var byRecoveryId = runs.Values.Where(r => r.RecoveryId.StartsWith("chaos-", StringComparison.Ordinal)).ToDictionary(r => r.RecoveryId);
        var soakRuns = new List<(ChaosRunPlan Plan, StoredRun Run)>();
        foreach (var plan in planned)
        {
            if (byRecoveryId.TryGetValue(plan.RecoveryId, out var run) && run.FlowName == plan.Flow)
            {
                soakRuns.Add((plan, run));
            }
            else if (notCreated.TryGetValue(plan.Index, out var why))
            {
                notes.Add($"the load generator gave up on {why}");
            }
            else
            {
                violations.Add(new Violation(ViolationKind.RunLost, $"{plan.RecoveryId} ({plan.Flow}) was created and is not in the store"));
            }
        }

        var ended = new List<string>();
        var declined = soakRuns.Where(r => r.Plan.Order?.Decision == "decline").Select(r => r.Run.Id).ToHashSet();
        foreach (var run in runs.Values)
        {
            if (!run.Status.IsFinished())
            {
                violations.Add(new Violation(ViolationKind.RunNotEnded, $"{Name(run)} is {run.Status}{(run.LastError is null ? "" : $" ({run.LastError})")}"));
            }
            else if (run.Status != RunStatus.Completed && !(run.Status == RunStatus.Compensated && declined.Contains(run.Id)))
            {
                ended.Add($"{Name(run)} ended {run.Status}: {run.LastError}");
            }
        }

        foreach (var (plan, run) in soakRuns.Where(r => r.Run.Status == RunStatus.Completed))
        {
            CheckResult(plan, run, violations, notes);
        }

        CheckChildren(runs, violations);
        CheckRepeatedStages(runs, ordered, events, violations);
        CheckEffectsAndMessages(soakRuns, runs, effects, journal.Where(e => e.IsDelivery).ToList(), outboxLeft, violations);
        CheckFencing(runs, events, ordered, violations);

        return new ChaosCheck(
            violations,
            new ChaosRunCounts(
                soakRuns.Count,
                soakRuns.Count(r => r.Run.Status == RunStatus.Completed),
                soakRuns.Count(r => r.Run.Status == RunStatus.Compensated),
                soakRuns.Count(r => r.Run.Status == RunStatus.Failed),
                runs.Values.Count(r => !r.Status.IsFinished()),
                runs.Count - byRecoveryId.Count),
            soakRuns.Where(r => r.Run.Status == RunStatus.Completed).GroupBy(r => r.Plan.Flow).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            new ChaosJournalCounts(
                journal.Count(e => e.IsStage),
                journal.Count(e => e.IsCommit),
                journal.Count(e => e.IsDelivery),
                torn,
                events.Count(e => e.Kind == (int)RunEventKind.Started && e.Attempt > 1),
                journal.Where(e => e.IsStage).GroupBy(e => (e.RunId, e.Name)).Count(g => g.Select(e => e.Attempt).Distinct().Count() > 1),
                effects.Values.Sum()),
            verified,
            ended,
            notes);
    }

    private static void CheckResult(ChaosRunPlan plan, StoredRun run, List<Violation> violations, List<string> notes)
    {
        List<string> differences;
        try
        {
            differences = plan switch
            {
                { Linear: { } linear } => InvariantChecker.Compare(Read<CrashState>(run), linear.Expected(plan.LinearInput!)),
                { Batch: { } batch } => CompareBatch(Read<ChaosBatch>(run), ChaosBatchFlow.Expected(batch)),
                _ => CheckOrder(Read<ChaosOrder>(run), notes),
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            differences = [$"the result cannot be read: {ex.Message}"];
        }

        if (differences.Count > 0)
        {
            violations.Add(new Violation(ViolationKind.WrongFinalState, $"{Name(run)}: {string.Join("; ", differences)}"));
        }
    }

    private static List<string> CompareBatch(ChaosBatch actual, ChaosBatch expected)
    {
        var differences = new List<string>();
        if (!actual.Trail.SequenceEqual(expected.Trail, StringComparer.Ordinal))
        {
            differences.Add($"stages applied [{string.Join(", ", actual.Trail)}], expected [{string.Join(", ", expected.Trail)}]");
        }

        if (!actual.Totals.SequenceEqual(expected.Totals))
        {
            differences.Add($"branch totals [{string.Join(", ", actual.Totals)}], expected [{string.Join(", ", expected.Totals)}]");
        }

        if (actual.Summary != expected.Summary)
        {
            differences.Add($"summary '{actual.Summary}', expected '{expected.Summary}'");
        }

        if (!actual.StreamVerified)
        {
            differences.Add($"the stream '{ChaosBatchFlow.StreamName}' read back differs from what was put");
        }

        return differences;
    }

    private static List<string> CheckOrder(ChaosOrder order, List<string> notes)
    {
        var differences = new List<string>();
        if (order.Answer == "decline")
        {
            differences.Add("completed although declined");
        }

        if (order.ShipmentLabel != $"label-{order.Key}")
        {
            differences.Add($"shipment label '{order.ShipmentLabel}' ({order.ShipmentError ?? "no error"}), expected 'label-{order.Key}'");
        }

        if (order.Charged == order.Expired)
        {
            differences.Add($"charged {order.Charged} and expired {order.Expired}: one of them, exactly");
        }

        if (order.Decision != "none" && order.Answer is null)
        {
            notes.Add($"{order.Key}: its decision ({order.Decision}) came after the wait had timed out");
        }

        return differences;
    }

    /// <summary>Every detached child belongs to a run of the soak and, completed, holds its label.</summary>
    private static void CheckChildren(Dictionary<Guid, StoredRun> runs, List<Violation> violations)
    {
        foreach (var child in runs.Values.Where(r => r.FlowName == ChaosOrderFlow.ShipmentName && r.Status == RunStatus.Completed))
        {
            var shipment = Read<ChaosShipment>(child);
            if (!shipment.Packed || shipment.Label != $"label-{shipment.Order}")
            {
                violations.Add(new Violation(ViolationKind.WrongFinalState, $"{Name(child)}: packed {shipment.Packed}, label '{shipment.Label}' for order {shipment.Order}"));
            }
        }
    }

    private static T Read<T>(StoredRun run) =>
        JsonSerializer.Deserialize<T>(run.Result ?? throw new InvalidOperationException("completed without a result"))
            ?? throw new InvalidOperationException("the result is JSON null");

    private static string Name(StoredRun run) => $"run {run.Id:N} ({run.FlowName} '{run.RecoveryId}')";

    private static List<string> ReadOutbox(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand($"SELECT run_id, destination, status, attempts, last_error FROM {Tables}outbox ORDER BY created_at", connection);
        using var reader = command.ExecuteReader();
        var left = new List<string>();
        while (reader.Read())
        {
            left.Add($"run {reader.GetGuid(0):N}: '{reader.GetString(1)}' still in the outbox ({(reader.GetInt32(2) == 0 ? "pending" : "dead-lettered")}, " +
                $"{reader.GetInt32(3)} attempts{(reader.IsDBNull(4) ? "" : $", last error: {reader.GetString(4)}")})");
        }

        return left;
    }
}
