namespace Cairn.Testing.Tests;

public sealed class CrashKitTests
{
    private readonly TestFlows _flows = new();

    [Fact]
    public async Task RunWithCrashAsync_CrashBeforeAStage_ResumesAfterTheLastRecoveryPointAndCompletes()
    {
        var flow = _flows.Purchase();
        var kit = new CrashKit();

        var result = await kit.RunWithCrashAsync(flow, new Order(), CrashAt.Stage("notify"));

        Assert.True(result.Crashed);
        Assert.Equal(CrashBoundaryKind.BeforeStage, result.CrashedAt!.Kind);
        Assert.Equal("notify", result.CrashedAt.Name);
        Assert.True(result.Outcome.IsCompleted, result.Outcome.Error);
        Assert.True(result.State!.Closed);
        var run = result.Outcome.RunId;
        Assert.Equal(1, _flows.CountOutside(run, "reserve"));
        Assert.Equal(1, _flows.CountOutside(run, "charge"));
        Assert.Equal(1, _flows.CountOutside(run, "notify"));
        Assert.Equal(["reserve", "charge", "notify"], result.Journal.Select(e => e.Stage));
        Assert.Equal([1, 1, 2], result.Journal.Select(e => e.Attempt));
        Assert.Equal([true, true, false], result.Journal.Select(e => e.CheckpointCommitted));
        result.AssertRecovered();
    }

    [Fact]
    public async Task RunWithCrashAsync_CrashAfterARecoveryPoint_RunsOnlyTheStagesAfterIt()
    {
        var flow = _flows.Purchase();
        var kit = new CrashKit();

        var result = await kit.RunWithCrashAsync(flow, new Order(), CrashAt.RecoveryPoint("reserved"));

        Assert.Equal(CrashBoundaryKind.AfterCheckpoint, result.CrashedAt!.Kind);
        Assert.Equal("reserved", result.CrashedAt.Name);
        Assert.True(result.Outcome.IsCompleted, result.Outcome.Error);
        Assert.Equal(["reserve", "charge", "notify"], result.Journal.Select(e => e.Stage));
        Assert.Equal([1, 2, 2], result.Journal.Select(e => e.Attempt));
        Assert.Equal(1, _flows.CountOutside(result.Outcome.RunId, "reserve"));
        result.Journal.AssertRanOnce("reserve");
        result.AssertRecovered();
    }

    [Fact]
    public async Task RunWithCrashAsync_BoundaryNeverReached_RunsToItsEndWithoutACrash()
    {
        var kit = new CrashKit();

        var result = await kit.RunWithCrashAsync(_flows.Purchase(), new Order(), CrashAt.Stage("no-such-stage"));

        Assert.False(result.Crashed);
        Assert.True(result.Outcome.IsCompleted, result.Outcome.Error);
        Assert.All(result.Journal, e => Assert.Equal(1, e.Attempt));
    }

    [Fact]
    public async Task RunWithCrashAsync_CrashAtABoundaryNumber_CrashesThere()
    {
        var kit = new CrashKit();

        // 1 before reserve, 2 after reserved, 3 before charge.
        var result = await kit.RunWithCrashAsync(_flows.Purchase(), new Order(), CrashAt.Boundary(3));

        Assert.Equal("charge", result.CrashedAt!.Name);
        Assert.Equal(["reserve", "charge", "notify"], result.Journal.Select(e => e.Stage));
        Assert.Equal([1, 2, 2], result.Journal.Select(e => e.Attempt));
        result.AssertRecovered();
    }

    [Fact]
    public async Task SweepAsync_EveryKindOfStep_CrashesAtEveryBoundaryAndEveryCaseRecovers()
    {
        var flow = _flows.Order();
        var kit = new CrashKit();
        var cases = new List<CrashCase<Order>>();

        var report = await kit.SweepAsync(flow, new Order(), c =>
        {
            cases.Add(c);
            c.AssertRecovered();
            Assert.True(c.State!.Closed);
            Assert.Equal(2, c.State.Packed);
            Assert.Equal("road", c.State.Route);
            Assert.Equal((7, 5), (c.State.Ledger, c.State.Bank));
            Assert.Equal(20, c.State.Price);
            Assert.Equal("1 parcel(s)", c.State.Shipment);
        });

        // order: load, loaded, 2 x (pack-item, packed), standard, ledger-read, ledger-done, fetch/ledger, bank-read,
        // fetch/bank, price, priced, sign, invoice/invoice, ship (the wait), close; its child run: book, booked, label.
        Assert.Equal(21, report.Boundaries.Count);
        Assert.Equal(21, report.CasesRun);
        Assert.Equal(21, cases.Count);
        Assert.All(cases, c => Assert.True(c.Crashed));
        Assert.Equal(
            ["bank-read", "book", "close", "label", "ledger-read", "load", "pack-item", "pack-item", "price", "sign", "standard"],
            report.CrashFreeRun.Select(e => e.Stage).Order(StringComparer.Ordinal));
        var afterCheckpoints = report.Boundaries.Where(b => b.Kind == CrashBoundaryKind.AfterCheckpoint).Select(b => b.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["booked", "fetch/bank", "fetch/ledger", "invoice/invoice", "ledger-done", "loaded", "packed", "packed", "priced", "ship"], afterCheckpoints);
        Assert.Contains(report.Boundaries, b => b.Run == "order/ship" && b.Name == "book");
        Assert.Contains(report.Boundaries, b => b.Name == "pack-item" && b.Iterations.SequenceEqual([1]));
        Assert.Contains(report.Boundaries, b => b.Name == "ledger-read" && b.Branch == " in branch 'ledger' of parallel 'fetch'");

        // A crash inside the child run resumes the child, and the parent takes its result once.
        var inChild = cases.Single(c => c.CrashedAt!.Run == "order/ship" && c.CrashedAt.Name == "label");
        Assert.Equal(2, inChild.Runs.Count);
        Assert.Single(inChild.Journal.Of("book"));
        Assert.Equal(2, Assert.Single(inChild.Journal.Of("label")).Attempt);
        Assert.Single(inChild.Journal.Of("close"));
    }

    [Fact]
    public async Task SweepAsync_AStageThatIsNotIdempotentAndNoRecoveryPointAfterIt_FailsNamingTheCases()
    {
        var flow = _flows.Mailer();
        var kit = new CrashKit();

        var error = await Assert.ThrowsAsync<CrashSweepException>(() => kit.SweepAsync(flow, new Order(), c =>
        {
            c.AssertRecovered();
            c.Journal.AssertRanOnce("send-email");
        }));

        // prepare, prepared, send-email, finish, done, archive: only the crash before finish sends the e-mail twice.
        var failure = Assert.Single(error.Failures);
        Assert.Equal("finish", failure.Boundary.Name);
        Assert.Equal(CrashBoundaryKind.BeforeStage, failure.Boundary.Kind);
        Assert.Contains("1 of 6 crash case(s) of flow mailer v1 failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("before stage 'finish' in run 'mailer'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Stage 'send-email' ran more than once", error.Message, StringComparison.Ordinal);
        Assert.Contains("attempts 1, 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("put a recovery point right after it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SweepAsync_TheUsersOwnAssertionFails_TheExceptionCarriesIt()
    {
        var flow = _flows.Mailer();
        var kit = new CrashKit();

        var error = await Assert.ThrowsAsync<CrashSweepException>(() => kit.SweepAsync(flow, new Order(), c =>
            Assert.Equal(1, _flows.CountOutside(c.Outcome.RunId, "send-email"))));

        var failure = Assert.Single(error.Failures);
        Assert.IsType<Xunit.Sdk.EqualException>(failure.Error);
        Assert.Contains("EqualException", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrashCase_AStageThatRanAgainAfterItsCheckpoint_FailsTheJournalCheck()
    {
        // The check itself: a journal where a covered stage ran again (which the engine never does) is reported.
        var run = RunId.New();
        var journal = new CrashJournal(
        [
            new StageExecution("f", run, "f", "charge", [], "", 1, CheckpointCommitted: true),
            new StageExecution("f", run, "f", "charge", [], "", 2, CheckpointCommitted: false),
        ]);

        var error = Assert.Throws<CrashCheckException>(journal.AssertNoCommittedStageRepeated);

        Assert.Contains("stage 'charge' of run 'f', attempt 1 was covered by a committed checkpoint and ran again on attempt 2", error.Message, StringComparison.Ordinal);
    }
}
