using Cairn.Runs;
using Cairn.Tests.Support;
using OrderApproval;
using Xunit.Abstractions;

namespace Cairn.Tests.Samples;

/// <summary>The order-approval sample on a fake clock: the run waits for a manager's signal, or for its timeout.</summary>
public sealed class OrderApprovalSampleTests(ITestOutputHelper output) : EngineTest(output)
{
    private readonly Payments _payments = new();

    [Fact]
    public async Task OrderWithinTheLimit_IsChargedWithoutWaiting()
    {
        var flow = OrderApprovalFlow.Create(_payments);
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, Order("A-1", 120m)));

        Assert.Equal(["120.00 is within the limit", "charged 120.00 (pay-0001)", "told Ada: confirmed"], outcome.Result!.Journal);
        Assert.DoesNotContain(await GetEventsAsync(outcome.RunId), e => e.Kind == RunEventKind.Waiting);
    }

    [Fact]
    public async Task OrderOverTheLimit_WaitsForTheApproval_ThenIsChargedOnce()
    {
        var flow = OrderApprovalFlow.Create(_payments);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, Order("B-2", 4_800m));
        await WaitForStatusAsync(engine, run.Id, RunStatus.Waiting);
        Assert.Equal(0, _payments.Charges);

        await engine.SignalAsync(run.Id, "approval", new Approval(true, "Grace"), "B-2-approval");
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal("Grace", outcome.Result!.ApprovedBy);
        Assert.Equal(["4800.00 is over the limit: waits for an approval", "approved by Grace", "charged 4800.00 (pay-0001)", "told Brian: confirmed"], outcome.Result.Journal);
        Assert.Equal(1, _payments.Charges);
    }

    [Fact]
    public async Task Rejected_IsNotCharged()
    {
        var flow = OrderApprovalFlow.Create(_payments);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, Order("C-3", 9_999m));
        await engine.SignalAsync(run.Id, "approval", new Approval(false, "Grace", "the customer is over their credit"));

        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal("rejected by Grace: the customer is over their credit", outcome.Result!.RejectedBecause);
        Assert.Null(outcome.Result.PaymentReference);
        Assert.Equal(0, _payments.Charges);
    }

    [Fact]
    public async Task ApprovalArrivesAfterARestart_TheNextEngineTakesIt()
    {
        var flow = OrderApprovalFlow.Create(_payments);
        var first = CreateEngine(flow);
        var run = await first.StartRunAsync(flow, Order("D-4", 2_000m));
        await WaitForStatusAsync(first, run.Id, RunStatus.Waiting);
        await first.DisposeAsync();

        var second = CreateEngine(flow);
        await second.StartAsync();
        Time.Advance(TimeSpan.FromDays(1));
        await second.SignalAsync(run.Id, "approval", new Approval(true, "Linus"));
        var outcome = await Within(second.WaitForRunAsync(flow, run.Id));

        Assert.Equal("Linus", outcome.Result!.ApprovedBy);
        Assert.Equal(1, _payments.Charges);
        Assert.Single(outcome.Result.Journal, line => line.Contains("over the limit", StringComparison.Ordinal)); // "check" ran once: the restart resumed at the wait
    }

    [Fact]
    public async Task NobodyAnswersWithinTwoDays_TheOrderIsTurnedDown()
    {
        var flow = OrderApprovalFlow.Create(_payments);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, Order("E-5", 1_500m));
        await WaitForStatusAsync(engine, run.Id, RunStatus.Waiting);

        AdvanceAndWake(engine, OrderApprovalFlow.ApprovalTimeout);
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal("no approval within 2 days", outcome.Result!.RejectedBecause);
        Assert.Equal("told Brian: not charged", outcome.Result.Journal[^1]);
        Assert.Equal(0, _payments.Charges);
    }

    private static ApprovalOrder Order(string id, decimal amount) =>
        new() { OrderId = id, Customer = amount > OrderApprovalFlow.Limit ? "Brian" : "Ada", Amount = amount };
}
