using Cairn.CrashTest.Chaos;
using Cairn.CrashTest.Harness;
using Cairn.Runs;

namespace Cairn.CrashTests;

/// <summary>
/// The chaos soak's checks on made-up journals and store rows: each invariant is broken once on purpose and must be
/// reported, and what the library allows (a sibling branch or a later iteration running again) must not be.
/// </summary>
public sealed class ChaosCheckerTests
{
    private static readonly Guid RunId = Guid.NewGuid();
    private int _line;

    [Fact]
    public void CheckRepeatedStages_StageAgainBehindItsBranchsCheckpoint_ReportedAndTheSiblingBranchIsNot()
    {
        var runs = Runs(ChaosBatchFlow.Name, RunStatus.Completed);
        var journal = new List<JournalEntry>
        {
            Stage("left-work:0", 1), Stage("right-work:0", 1), Commit("left-done", 1),
            Stage("left-work:0", 2), Stage("right-work:0", 2),
        };
        var violations = new List<Violation>();

        ChaosChecker.CheckRepeatedStages(runs, journal, [], violations);

        AssertOne(violations, ViolationKind.StageRepeated, "'left-work:0' started in attempt 2");
    }

    [Fact]
    public void CheckRepeatedStages_IterationAgainAfterItsItemCommitted_ReportedAndTheNextIterationIsNot()
    {
        var runs = Runs(ChaosBatchFlow.Name, RunStatus.Completed);
        var journal = new List<JournalEntry>
        {
            Stage("load", 1), Commit("loaded", 1), Stage("pick:0", 1), Stage("left-work:0", 1), Commit("left-done", 1), Stage("tally:0", 1), Commit("item-done", 1),
            Stage("pick:1", 1), Stage("pick:1", 2), Stage("pick:0", 2), Stage("load", 2),
        };
        var violations = new List<Violation>();

        ChaosChecker.CheckRepeatedStages(runs, journal, [], violations);

        Assert.Equal(["pick:0", "load"], violations.Select(v => v.Details.Split('\'')[3]));
    }

    [Fact]
    public void CheckFencing_WriteOfAnAttemptAfterTheNextStarted_Reported()
    {
        var runs = Runs(ChaosOrderFlow.Name, RunStatus.Completed);
        List<StoredEvent> events =
        [
            Event(RunEventKind.Started, 1), Event(RunEventKind.RecoveryPointPassed, 1, "recorded"), Event(RunEventKind.Interrupted, 1),
            Event(RunEventKind.Started, 2), Event(RunEventKind.RecoveryPointPassed, 1, "cool-off"), Event(RunEventKind.Completed, 2),
        ];
        var violations = new List<Violation>();

        ChaosChecker.CheckFencing(runs, events, [Commit("recorded", 1)], violations);

        AssertOne(violations, ViolationKind.WriteAfterTakeover, "of attempt 1 was stored after attempt 2 had started");
    }

    [Fact]
    public void CheckFencing_CommitANodeWasToldOfIsNotInTheStore_Reported()
    {
        var runs = Runs(ChaosOrderFlow.Name, RunStatus.Completed);
        var violations = new List<Violation>();

        ChaosChecker.CheckFencing(runs, [Event(RunEventKind.Started, 1), Event(RunEventKind.RecoveryPointPassed, 1, "recorded")], [Commit("recorded", 1), Commit("charged", 1)], violations);

        AssertOne(violations, ViolationKind.CommitLost, "'charged' of attempt 1 was committed for its node");
    }

    [Fact]
    public void CheckEffectsAndMessages_EffectTwiceMessageLostAndTwoIds_EachReported()
    {
        var runs = Runs(ChaosOrderFlow.Name, RunStatus.Completed);
        var effects = new Dictionary<(Guid, string), int> { [(RunId, "record")] = 2, [(RunId, "confirm")] = 1 };
        var deliveries = new List<JournalEntry> { Delivery("chaos-recorded", Guid.NewGuid()), Delivery("chaos-confirmed", Guid.NewGuid()), Delivery("chaos-confirmed", Guid.NewGuid()) };
        var violations = new List<Violation>();

        ChaosChecker.CheckEffectsAndMessages([(OrderPlan(), runs[RunId])], runs, effects, deliveries, [], violations);

        Assert.Equal(
            [ViolationKind.EffectNotOnce, ViolationKind.EffectNotOnce, ViolationKind.MessageLost, ViolationKind.MessageWrong],
            violations.Select(v => v.Kind).Order());
        Assert.Contains(violations, v => v.Details.Contains("message 'chaos-thanked' was committed and never delivered", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckEffectsAndMessages_CompensatedOrderWithItsUndo_NothingReported()
    {
        var runs = Runs(ChaosOrderFlow.Name, RunStatus.Compensated);
        var effects = new Dictionary<(Guid, string), int> { [(RunId, "record")] = 1, [(RunId, "undo-record")] = 1 };
        var messageId = Guid.NewGuid();
        var violations = new List<Violation>();

        ChaosChecker.CheckEffectsAndMessages([(OrderPlan(), runs[RunId])], runs, effects, [Delivery("chaos-recorded", messageId), Delivery("chaos-recorded", messageId)], [], violations);

        Assert.Empty(violations);
    }

    private static void AssertOne(List<Violation> violations, ViolationKind kind, string details)
    {
        var violation = Assert.Single(violations);
        Assert.Equal(kind, violation.Kind);
        Assert.Contains(details, violation.Details, StringComparison.Ordinal);
    }

    private static Dictionary<Guid, StoredRun> Runs(string flow, RunStatus status) =>
        new() { [RunId] = new StoredRun(RunId, flow, "chaos-1", status, 2, null, null) };

    private static ChaosRunPlan OrderPlan() =>
        new(1, "chaos-1", ChaosOrderFlow.Name, null, null, new ChaosOrder { Key = "chaos-1", Decision = "approve" }, null);

    private JournalEntry Stage(string place, int attempt) => new(++_line, JournalEntryKind.Stage, RunId, place, attempt);

    private JournalEntry Commit(string point, int attempt) => new(++_line, JournalEntryKind.Commit, RunId, point, attempt);

    private JournalEntry Delivery(string key, Guid messageId) => new(++_line, JournalEntryKind.Delivery, RunId, key, 0, messageId);

    private StoredEvent Event(RunEventKind kind, int attempt, string? point = null) => new(RunId, ++_line, (int)kind, attempt, $"{kind}", point);
}
