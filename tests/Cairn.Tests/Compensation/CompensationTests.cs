using System.Collections.Concurrent;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Compensation;

public sealed class CompensationTests(ITestOutputHelper output) : EngineTest(output)
{
    private readonly ConcurrentQueue<string> _journal = new();

    [Fact]
    public async Task ARunThatFailsForGood_UndoesItsCompletedStagesInReverseOrder_OnceEach_AndEndsCompensated()
    {
        var flow = Purchase(payment: _ => throw new InvalidOperationException("card declined"));
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Compensated, outcome.Status);
        Assert.Equal(["reserve", "save", "unsave", "release:reserve"], _journal.Where(e => e != "pay"));
        var events = await GetEventsAsync(run.Id);
        var compensating = Assert.Single(events, e => e.Kind == RunEventKind.Compensating);
        Assert.Contains("card declined", compensating.Message, StringComparison.Ordinal);
        Assert.EndsWith("compensating stage 'save', stage 'reserve'", compensating.Message, StringComparison.Ordinal);
        var compensated = events[^1];
        Assert.Equal(RunEventKind.Compensated, compensated.Kind);
        Assert.StartsWith("2 stage(s) compensated on attempt 2 after: in stage 'pay': InvalidOperationException: card declined", compensated.Message, StringComparison.Ordinal);
        var stored = await GetRunAsync(run.Id);
        Assert.Equal((RunStatus.Compensated, Time.GetUtcNow()), (stored.Status, stored.FinishedAt));
    }

    [Fact]
    public async Task AStageWithoutACompensation_AndTheFailedStage_AreNotCompensated()
    {
        var flow = Flow.Create<TestState>("shop")
            .Stage("reserve", (c, _) => Journal("reserve")).CompensateWith((c, _) => Journal("release"))
            .Stage("log", (c, _) => Journal("log"))
            .Stage("pay", (c, _) => throw new InvalidOperationException("declined")).CompensateWith((c, _) => Journal("refund"))
            .Retry(p => p with { MaxRetries = 0 })
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(["reserve", "log", "release"], _journal);
    }

    [Fact]
    public async Task ACompensationThatFailsForGood_FailsTheRunWithItsError()
    {
        var flow = Flow.Create<TestState>("shop")
            .Stage("reserve", (c, _) => Journal("reserve"))
            .CompensateWith((c, _) => throw new IOException("stock service down"), RetryPolicy.None)
            .RecoveryPoint("reserved")
            .Stage("pay", (c, _) => throw new InvalidOperationException("declined"))
            .Retry(p => p with { MaxRetries = 0 })
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        var stored = await GetRunAsync(run.Id);
        Assert.Contains("in the compensation of stage 'reserve'", stored.LastError, StringComparison.Ordinal);
        Assert.Contains("IOException: stock service down", stored.LastError, StringComparison.Ordinal);
        Assert.Equal(RunEventKind.CompensationFailed, (await GetEventsAsync(run.Id))[^1].Kind);
    }

    [Fact]
    public async Task ACompensationThatFailsOnce_IsRetriedByItsPolicy()
    {
        var failures = 1;
        var flow = Flow.Create<TestState>("shop")
            .Stage("reserve", (c, _) => Journal("reserve"))
            .CompensateWith(
                (c, _) => Interlocked.Decrement(ref failures) >= 0 ? throw new IOException("busy") : Journal("release"),
                new RetryPolicy { MaxRetries = 2, Interval = TimeSpan.FromSeconds(5) })
            .RecoveryPoint("reserved")
            .Stage("pay", (c, _) => throw new InvalidOperationException("declined"))
            .Retry(p => p with { MaxRetries = 0 })
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = engine.WaitForRunAsync(flow, run.Id);
        await WaitUntilAsync(() =>
        {
            // The retry waits on the fake clock: move it on until the compensation has run again.
            Time.Advance(TimeSpan.FromSeconds(5));
            return waiting.IsCompleted;
        });
        var outcome = await waiting;

        Assert.Equal(RunStatus.Compensated, outcome.Status);
        Assert.Equal(["reserve", "release"], _journal);
    }

    [Fact]
    public async Task CompensationsInALoop_SeeTheirIterations()
    {
        var flow = Flow.Create<TestState>("shop")
            .Stage("start", (c, _) =>
            {
                c.State.Trace = ["a", "b"];
                return Task.CompletedTask;
            })
            .ForEach("items", s => s.Trace, body => body
                .Stage("reserve", (c, _) => Journal($"reserve {c.Iteration}")).CompensateWith((c, _) => Journal($"release {c.Iteration} {c.IdempotencyKey}")))
            .Stage("pay", (c, _) => throw new InvalidOperationException("declined"))
            .Retry(p => p with { MaxRetries = 0 })
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(["reserve 0", "reserve 1", $"release 1 {run.Id}:reserve:1", $"release 0 {run.Id}:reserve:0"], _journal);
    }

    [Fact]
    public async Task CancelWithCompensation_UndoesTheStagesBeforeTheLastCheckpoint_AndEndsCompensated()
    {
        var payment = NewGate();
        var entered = NewGate();
        var flow = Purchase(payment: async ct =>
        {
            entered.TrySetResult();
            await payment.Task.WaitAsync(ct);
        });
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(entered.Task);

        var cancelled = await engine.CancelWithCompensationAsync(run.Id);

        Assert.Equal(RunStatus.Pending, cancelled.Status);
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));
        Assert.Equal(RunStatus.Compensated, outcome.Status);
        Assert.Equal(["reserve", "save", "pay", "unsave", "release:reserve"], _journal);
        var events = await GetEventsAsync(run.Id);
        Assert.Contains(events, e => e.Kind == RunEventKind.CompensationRequested && e.Message.StartsWith("cancelled with compensation by request", StringComparison.Ordinal));
        Assert.Equal(RunEventKind.Compensated, events[^1].Kind);
    }

    [Fact]
    public async Task CancelWithCompensation_WithNothingToUndo_CancelsTheRun()
    {
        var never = NewGate();
        var entered = NewGate();
        var flow = Flow.Create<TestState>("shop")
            .Stage("wait", async (c, ct) =>
            {
                entered.TrySetResult();
                await never.Task.WaitAsync(ct);
            })
            .Build();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(entered.Task);

        var cancelled = await engine.CancelWithCompensationAsync(run.Id);

        Assert.Equal(RunStatus.Cancelled, cancelled.Status);
        Assert.Equal("cancelled with compensation by request; no completed stage has a compensation", (await GetEventsAsync(run.Id))[^1].Message);
    }

    [Fact]
    public void CompensateWith_WithoutAStageBefore_IsRefused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Flow.Create<TestState>("shop").CompensateWith((c, _) => Task.CompletedTask));

        Assert.Equal("A compensation follows the stage it compensates: add a stage first.", error.Message);
    }

    [Fact]
    public void ACompensationInsideAParallelBranch_IsRefusedWhenTheFlowIsBuilt()
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>("shop")
            .Parallel<TestState>("both", p => p.Branch("a", s => s, b => b.Stage("x", (c, _) => Task.CompletedTask).CompensateWith((c, _) => Task.CompletedTask)), (s, _) => { })
            .Build());

        Assert.Contains("stage 'x' is inside parallel 'both': transactional stages and compensations are not supported inside parallel branches", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATransactionalCompensation_OnAStoreWithoutTransactions_IsRefusedWhenTheEngineIsBuilt()
    {
        var flow = Flow.Create<TestState>("shop")
            .Stage("reserve", (c, _) => Task.CompletedTask).CompensateInTransaction((c, transaction, _) => Task.CompletedTask)
            .Build();

        var error = Assert.Throws<InvalidOperationException>(() => CreateEngine(flow));

        Assert.StartsWith("Flow shop v1 has a transactional compensation on stage 'reserve', which runs in a transaction of the store's database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASecondCompensation_OnOneStage_IsRefused()
    {
        var builder = Flow.Create<TestState>("shop").Stage("reserve", (c, _) => Task.CompletedTask).CompensateWith((c, _) => Task.CompletedTask);

        var error = Assert.Throws<InvalidOperationException>(() => builder.CompensateInTransaction((c, transaction, _) => Task.CompletedTask));

        Assert.Equal("Stage 'reserve' already has a compensation.", error.Message);
    }

    /// <summary>reserve (compensated by release), save (compensated by unsave), recovery point, pay, finish.</summary>
    private Flow<TestState> Purchase(Func<CancellationToken, Task> payment) =>
        Flow.Create<TestState>("shop")
            .Stage("reserve", (c, _) => Journal("reserve")).CompensateWith((c, _) => Journal($"release:{c.StageName}"))
            .Stage("save", (c, _) => Journal("save")).CompensateWith((c, _) => Journal("unsave"))
            .RecoveryPoint("order-received")
            .Stage("pay", async (c, ct) =>
            {
                await Journal("pay");
                await payment(ct);
            })
            .Stage("finish", (c, _) => Journal("finish"))
            .Retry(p => p with { MaxRetries = 0 })
            .Build();

    private Task Journal(string entry)
    {
        _journal.Enqueue(entry);
        return Task.CompletedTask;
    }
}
