using System.Collections.Concurrent;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

/// <summary>Detached sub-flows: the child is a run of its own, the parent waits for it durably and handles its outcome.</summary>
public sealed class DetachedSubFlowTests(ITestOutputHelper output) : EngineTest(output)
{
    private readonly ConcurrentQueue<string> _ran = new();

    [Fact]
    public async Task DetachedSubFlow_ChildCompletes_ParentWaitsWithoutUsingARetryAndTakesTheResult()
    {
        var release = NewGate();
        var child = Flow.Create<Side>("settle-account")
            .Stage("settle", async (context, ct) =>
            {
                _ran.Enqueue($"settle {context.State.Account}");
                await release.Task.WaitAsync(ct);
                context.State.Total = 42;
            })
            .Build();
        var parent = Flow.Create<Reconciliation>("month-end")
            .Stage("prepare", (context, _) =>
            {
                _ran.Enqueue("prepare");
                context.State.Account = "acc-9";
                return Task.CompletedTask;
            })
            .RecoveryPoint("prepared")
            .DetachedSubFlow("settle", child, s => new Side { Account = s.Account }, (state, outcome) =>
            {
                _ran.Enqueue($"handled {outcome.Status}");
                state.Difference = outcome.Result!.Total;
            })
            .Stage("close", (_, _) =>
            {
                _ran.Enqueue("close");
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(parent);

        var run = await engine.StartRunAsync(parent, new Reconciliation());
        var waiting = await WaitForAsync(engine, run.Id, r => r.Status == RunStatus.WaitingForRetry, "parent waiting for its child");
        Assert.Equal("settle", waiting.LastRecoveryPoint);
        Assert.Equal("2/-2", waiting.Position);
        Assert.Equal(0, waiting.RetriesUsed);
        var childRun = await Store.FindRunAsync("settle-account", $"{run.Id}:settle", Ct);
        Assert.NotNull(childRun);
        Assert.Contains("waiting for child run", (await GetEventsAsync(run.Id))[^1].Message, StringComparison.Ordinal);

        release.TrySetResult();
        var outcome = await Within(engine.WaitForRunAsync(parent, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(42, outcome.Result!.Difference);
        Assert.Equal(["prepare", "settle acc-9", "handled Completed", "close"], _ran);
        Assert.Equal(0, (await GetRunAsync(run.Id)).RetriesUsed);
        Assert.Equal(RunStatus.Completed, (await GetRunAsync(childRun.Id)).Status);
    }

    [Fact]
    public async Task DetachedSubFlow_ChildFails_TheParentHandlesTheError()
    {
        var child = Flow.Create<Side>("failing-child")
            .Retry(RetryPolicy.None)
            .Stage("boom", (_, _) => throw new InvalidOperationException("card declined"))
            .Build();
        var parent = Flow.Create<Reconciliation>("handling-parent")
            .Stage("prepare", (_, _) => Task.CompletedTask)
            .DetachedSubFlow("charge", child, s => new Side(), (state, outcome) =>
                state.Account = outcome.IsCompleted ? "paid" : $"{outcome.Status}: {outcome.Error}")
            .Build();
        var engine = CreateEngine(parent);

        var outcome = await Within(engine.RunAsync(parent, new Reconciliation()));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.StartsWith("Failed: in stage 'boom': InvalidOperationException: card declined", outcome.Result!.Account, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DetachedSubFlow_ChildFailsWithoutHandler_FailsTheParentAndKeepsItsCheckpoint()
    {
        var child = Flow.Create<Side>("unhandled-child")
            .Retry(RetryPolicy.None)
            .Stage("boom", (_, _) => throw new InvalidOperationException("card declined"))
            .Build();
        var parent = Flow.Create<Reconciliation>("unhandled-parent")
            .Stage("prepare", (_, _) => Task.CompletedTask)
            .DetachedSubFlow("charge", child, s => new Side())
            .Build();
        var engine = CreateEngine(parent);

        var outcome = await Within(engine.RunAsync(parent, new Reconciliation()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("ChildRunFailedException: Child run", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("(unhandled-child v1) ended Failed: in stage 'boom'", outcome.Error, StringComparison.Ordinal);
        Assert.Equal("charge", (await Store.GetRecoveryDataAsync(outcome.RunId, Ct)).Checkpoint?.RecoveryPoint);
    }

    [Fact]
    public async Task DetachedSubFlow_EngineStopsWhileBothWait_AnotherEngineFinishesChildAndParentWithoutRepeatingStages()
    {
        var hold = NewGate();
        var child = Flow.Create<Side>("slow-child")
            .Stage("first", (_, _) =>
            {
                _ran.Enqueue("child-first");
                return Task.CompletedTask;
            })
            .RecoveryPoint("child-point")
            .Stage("second", async (_, ct) =>
            {
                _ran.Enqueue("child-second");
                await hold.Task.WaitAsync(ct);
            })
            .Build();
        var parent = Flow.Create<Reconciliation>("durable-parent")
            .Stage("prepare", (_, _) =>
            {
                _ran.Enqueue("prepare");
                return Task.CompletedTask;
            })
            .DetachedSubFlow("wait", child, s => new Side(), (state, outcome) => state.Account = outcome.Status.ToString())
            .Build();
        var first = CreateEngine(parent, o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(10));
        var run = await first.StartRunAsync(parent, new Reconciliation());
        await WaitForAsync(first, run.Id, r => r.Status == RunStatus.WaitingForRetry, "parent waiting");
        await AdvanceUntilAsync(TimeSpan.FromMilliseconds(10), () => _ran.Contains("child-second"), "child in its second stage");

        // The shutdown timeout runs on the fake clock: move it until the engine gave up waiting and cancelled the child.
        var stopping = first.DisposeAsync().AsTask();
        await AdvanceUntilAsync(TimeSpan.FromMilliseconds(10), () => stopping.IsCompleted, "the first engine stopped");
        await stopping;
        Assert.Equal(RunStatus.Interrupted, (await Store.FindRunAsync("slow-child", $"{run.Id}:wait", Ct))?.Status);

        hold.TrySetResult();
        var second = CreateEngine(parent);
        await second.StartAsync();
        var outcome = await Within(second.WaitForRunAsync(parent, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal("Completed", outcome.Result!.Account);
        Assert.Equal(1, _ran.Count(s => s == "prepare"));
        Assert.Equal(1, _ran.Count(s => s == "child-first"));
        Assert.Equal(2, _ran.Count(s => s == "child-second"));
    }

    [Fact]
    public async Task DetachedSubFlow_ParentCancelledWhileWaiting_StaysCancelledWhenTheChildCompletes()
    {
        var release = NewGate();
        var child = Flow.Create<Side>("late-child")
            .Stage("work", async (_, ct) => await release.Task.WaitAsync(ct))
            .Build();
        var parent = Flow.Create<Reconciliation>("cancelled-parent")
            .Stage("prepare", (_, _) => Task.CompletedTask)
            .DetachedSubFlow("wait", child, s => new Side())
            .Build();
        var engine = CreateEngine(parent);
        var run = await engine.StartRunAsync(parent, new Reconciliation());
        await WaitForAsync(engine, run.Id, r => r.Status == RunStatus.WaitingForRetry, "parent waiting");
        await engine.CancelRunAsync(run.Id);

        release.TrySetResult();
        var childRun = await Store.FindRunAsync("late-child", $"{run.Id}:wait", Ct);
        var childOutcome = await Within(engine.WaitForRunAsync(child, childRun!.Id));

        Assert.True(childOutcome.IsCompleted, childOutcome.Error);
        Assert.Equal(RunStatus.Cancelled, (await GetRunAsync(run.Id)).Status);
        Assert.DoesNotContain(await GetEventsAsync(run.Id), e => e.Kind == RunEventKind.RerunRequested);
    }

    [Fact]
    public async Task DetachedSubFlow_InsideAParallelBranch_TheRunWaitsOnceTheOtherBranchFinishedAndResumesOnlyTheWaitingOne()
    {
        var release = NewGate();
        var child = Flow.Create<Side>("branch-child")
            .Stage("settle", async (context, ct) =>
            {
                _ran.Enqueue("child-settle");
                await release.Task.WaitAsync(ct);
                context.State.Total = 500;
            })
            .Build();
        var parent = Flow.Create<Reconciliation>("parallel-parent")
            .Stage("prepare", (_, _) =>
            {
                _ran.Enqueue("prepare");
                return Task.CompletedTask;
            })
            .Parallel<Side>(
                "both",
                p => p
                    .Branch("remote", s => new Side(), b => b
                        .Stage("remote-start", (_, _) =>
                        {
                            _ran.Enqueue("remote-start");
                            return Task.CompletedTask;
                        })
                        .DetachedSubFlow("settle-remote", child, s => new Side(), (slice, outcome) => slice.Total = outcome.Result!.Total))
                    .Branch("local", s => new Side(), b => b.Stage("local-work", (context, _) =>
                    {
                        _ran.Enqueue("local-work");
                        context.State.Total = 7;
                        return Task.CompletedTask;
                    })),
                (state, sides) => state.Difference = sides["remote"].Total + sides["local"].Total)
            .Build();
        var engine = CreateEngine(parent);

        var run = await engine.StartRunAsync(parent, new Reconciliation());
        var waiting = await WaitForAsync(engine, run.Id, r => r.Status == RunStatus.WaitingForRetry && _ran.Contains("local-work"), "parent waiting");
        Assert.Equal("1/-1", waiting.Position);
        Assert.Equal(0, waiting.RetriesUsed);
        release.TrySetResult();
        var outcome = await Within(engine.WaitForRunAsync(parent, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(507, outcome.Result!.Difference);
        Assert.Equal(1, _ran.Count(s => s == "prepare"));
        Assert.Equal(1, _ran.Count(s => s == "remote-start"));
        Assert.Equal(1, _ran.Count(s => s == "local-work"));
        Assert.Equal(1, _ran.Count(s => s == "child-settle"));
        Assert.NotNull(await Store.FindRunAsync("branch-child", $"{run.Id}:settle-remote", Ct));
    }
}
