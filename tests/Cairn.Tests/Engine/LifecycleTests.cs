using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Engine;

public sealed class LifecycleTests(ITestOutputHelper output) : EngineTest(output)
{
    [Fact]
    public async Task StartRunAsync_FreeSlot_CreatesTheRunClaimedAndExecutesItAtOnce()
    {
        var running = NewGate();
        var release = NewGate();
        var flow = Flow.Create<TestState>("lifecycle")
            .Stage("work", async (context, ct) =>
            {
                running.TrySetResult();
                await release.Task.WaitAsync(ct);
                context.State.Value = 42;
            })
            .Build();
        var engine = CreateEngine(flow);

        var created = await engine.StartRunAsync(flow, new TestState());

        Assert.Equal(RunStatus.Running, created.Status);
        Assert.Equal(1, created.Attempt);
        Assert.Equal(engine.NodeName, created.Owner);
        await Within(running.Task);
        var during = await GetRunAsync(created.Id);
        Assert.Equal(RunStatus.Running, during.Status);
        Assert.Equal(engine.NodeName, during.Owner);
        Assert.Equal(1, during.Attempt);
        Assert.NotNull(during.LeaseExpiresAt);

        release.TrySetResult();
        var outcome = await Within(engine.WaitForRunAsync(flow, created.Id));

        Assert.True(outcome.IsCompleted);
        Assert.Equal(42, outcome.Result!.Value);
        Assert.Null(outcome.Error);
        Assert.False(outcome.WasAlreadyCompleted);
        var after = await GetRunAsync(created.Id);
        Assert.Equal(RunStatus.Completed, after.Status);
        Assert.Equal(Time.GetUtcNow(), after.FinishedAt);
        Assert.Null(after.LeaseExpiresAt);
    }

    [Fact]
    public async Task StartRunAsync_EverySlotBusy_CreatesThePendingRunForTheClaimLoop()
    {
        var release = NewGate();
        var running = new List<TaskCompletionSource>();
        var flow = Flow.Create<TestState>("busy")
            .Stage("work", async (context, ct) =>
            {
                lock (running)
                {
                    running[context.State.Value].TrySetResult();
                }

                await release.Task.WaitAsync(ct);
            })
            .Build();
        var engine = CreateEngine(flow, o => o.MaxConcurrentRuns = 1);
        running.AddRange([NewGate(), NewGate()]);

        var first = await engine.StartRunAsync(flow, new TestState { Value = 0 });
        await Within(running[0].Task);
        var second = await engine.StartRunAsync(flow, new TestState { Value = 1 });

        Assert.Equal(RunStatus.Running, first.Status);
        Assert.Equal(RunStatus.Pending, second.Status);
        Assert.Null(second.Owner);
        Assert.Equal(RunStatus.Pending, (await GetRunAsync(second.Id)).Status);
        release.TrySetResult();
        await Within(running[1].Task);
        Assert.True((await Within(engine.WaitForRunAsync(flow, second.Id))).IsCompleted);
        Assert.Equal([RunEventKind.Created, RunEventKind.Started, RunEventKind.Completed], (await Store.GetEventsAsync(second.Id, Ct)).Select(e => e.Kind));
    }

    [Fact]
    public async Task RunAsync_FlowWithRecoveryPoints_RecordsEventsInOrder()
    {
        var flow = Flow.Create<TestState>("events")
            .Stage("read", Counter.Step("read"))
            .RecoveryPoint("read-done", "CSV read")
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("load-done")
            .Stage("write", Counter.Step("write"))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        var events = await GetEventsAsync(outcome.RunId);
        Assert.Equal(
            [RunEventKind.Created, RunEventKind.Started, RunEventKind.RecoveryPointPassed, RunEventKind.RecoveryPointPassed, RunEventKind.Completed],
            events.Select(e => e.Kind));
        Assert.Equal([0, 1, 1, 1, 1], events.Select(e => e.Attempt));
        Assert.Equal("recovery point 'read-done' passed: CSV read", events[2].Message);
        Assert.Equal("recovery point 'load-done' passed", events[3].Message);
        Assert.Contains(engine.NodeName, events[1].Message, StringComparison.Ordinal);
        Assert.All(events, e => Assert.Equal(Time.GetUtcNow(), e.Time));
        Assert.Equal(["read", "load", "write"], outcome.Result!.Trace);
    }

    [Fact]
    public async Task RunAsync_Completed_DeletesRecoveryDataAndKeepsResult()
    {
        var flow = Flow.Create<TestState>("cleanup")
            .Stage("a", Counter.Step("a"))
            .RecoveryPoint("a-done")
            .Stage("b", Counter.Step("b"))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState { Value = 7 }));

        var data = await Store.GetRecoveryDataAsync(outcome.RunId, Ct);
        Assert.Null(data.Input);
        Assert.Null(data.Checkpoint);
        var result = await Store.GetResultAsync(outcome.RunId, Ct);
        Assert.NotNull(result);
        var stored = engine.Serializer.Deserialize<TestState>(result.Value.Span);
        Assert.Equal(["a", "b"], stored.Trace);
        Assert.Equal(7, stored.Value);
        var run = await GetRunAsync(outcome.RunId);
        Assert.Equal("a-done", run.LastRecoveryPoint);
        Assert.Equal(1, run.CheckpointSequence);
    }

    [Fact]
    public async Task RunAsync_RecoveryPointWithStatusMessage_StoresItOnTheRun()
    {
        var atSecondStage = NewGate();
        var release = NewGate();
        var flow = Flow.Create<TestState>("status")
            .Stage("select", Counter.Step("select"))
            .RecoveryPoint("selected", "SELECT successful")
            .Stage("insert", async (context, ct) =>
            {
                atSecondStage.TrySetResult();
                await release.Task.WaitAsync(ct);
            })
            .RecoveryPoint("inserted", "INSERT successful")
            .Stage("report", Counter.Step("report"))
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(atSecondStage.Task);

        var during = await GetRunAsync(run.Id);
        Assert.Equal("SELECT successful", during.StatusMessage);
        Assert.Equal("selected", during.LastRecoveryPoint);
        Assert.Equal("1", during.Position);

        release.TrySetResult();
        await Within(engine.WaitForRunAsync(flow, run.Id));
        var after = await GetRunAsync(run.Id);
        Assert.Equal("INSERT successful", after.StatusMessage);
        Assert.Equal("inserted", after.LastRecoveryPoint);
        Assert.Equal("3", after.Position);
    }

    [Fact]
    public async Task RunAsync_StageSetsStatusMessage_OverridesDefinitionForNextPointOnly()
    {
        var flow = Flow.Create<TestState>("status-override")
            .Stage("load", (context, _) =>
            {
                context.StatusMessage = "1,204 orders loaded";
                return Task.CompletedTask;
            })
            .RecoveryPoint("loaded", "orders loaded")
            .Stage("check", Counter.Step("check"))
            .RecoveryPoint("checked", "orders checked")
            .Stage("write", Counter.Step("write"))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        var passed = (await GetEventsAsync(outcome.RunId)).Where(e => e.Kind == RunEventKind.RecoveryPointPassed).Select(e => e.Message);
        Assert.Equal(["recovery point 'loaded' passed: 1,204 orders loaded", "recovery point 'checked' passed: orders checked"], passed);
        Assert.Equal("orders checked", (await GetRunAsync(outcome.RunId)).StatusMessage);
    }

    [Fact]
    public async Task RunAsync_StageReplacesState_NextStageSeesNewState()
    {
        var flow = Flow.Create<TestState>("replace")
            .Stage("replace", (context, _) =>
            {
                context.State = new TestState { Value = 5 };
                return Task.CompletedTask;
            })
            .RecoveryPoint("replaced")
            .Stage("double", (context, _) =>
            {
                context.State.Value *= 2;
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState { Value = 1 }));

        Assert.Equal(10, outcome.Result!.Value);
    }

    [Fact]
    public async Task RunAsync_StageContext_NamesRunFlowAndStage()
    {
        StageContext<TestState>? seen = null;
        var flow = Flow.Create<TestState>("context")
            .Stage("look", (context, _) =>
            {
                seen = context;
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState(), recoveryId: "order-9"));

        Assert.NotNull(seen);
        Assert.Equal(outcome.RunId, seen.RunId);
        Assert.Equal("order-9", seen.RecoveryId);
        Assert.Equal("context", seen.FlowName);
        Assert.Equal("look", seen.StageName);
        Assert.Equal(new RecoveryInfo(false, null, 1, null), seen.Recovery);
    }

    [Fact]
    public async Task RunAsync_ClassStage_Runs()
    {
        var flow = Flow.Create<TestState>("class-stage").Stage<Increment>("one").Stage("two", new Increment()).Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(2, outcome.Result!.Value);
    }

    [Fact]
    public async Task StartRunAsync_EngineNotStarted_StartsIt()
    {
        var flow = Flow.Create<TestState>("autostart").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.Completed);

        Assert.Equal(1, Counter["a"]);
    }

    [Fact]
    public async Task StartRunAsync_FlowNotRegistered_RegistersIt()
    {
        var registered = Flow.Create<TestState>("registered").Stage("a", Counter.Step("a")).Build();
        var added = Flow.Create<TestState>("added-later").Stage("b", Counter.Step("b")).Build();
        var engine = CreateEngine(registered);

        var outcome = await Within(engine.RunAsync(added, new TestState()));

        Assert.True(outcome.IsCompleted);
        Assert.Equal(1, Counter["b"]);
        Assert.Contains(added, engine.Flows);
    }

    [Fact]
    public async Task RunAsync_OtherVersionOfRegisteredFlow_RegistersItBesideAndRunsOnIt()
    {
        var v1 = Flow.Create<TestState>("versioned").Stage("a", Counter.Step("a")).Build();
        var v2 = Flow.Create<TestState>("versioned", version: 2).Stage("b", Counter.Step("b")).Build();
        var engine = CreateEngine(v1);

        var outcome = await Within(engine.RunAsync(v2, new TestState()));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["b"], outcome.Result!.Trace);
        Assert.Equal(2, (await GetRunAsync(outcome.RunId)).FlowVersion);
        Assert.Equal(2, engine.Flows.Count);
    }

    [Fact]
    public async Task StartRunAsync_AfterDispose_Throws()
    {
        var flow = Flow.Create<TestState>("disposed").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow);
        await engine.StartAsync();
        await engine.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => engine.StartRunAsync(flow, new TestState()));
    }

    [Fact]
    public async Task RunAsync_CallerStopsWaiting_RunGoesOn()
    {
        var running = NewGate();
        var release = NewGate();
        var flow = Flow.Create<TestState>("caller-gives-up")
            .Stage("work", async (context, ct) =>
            {
                running.TrySetResult();
                await release.Task.WaitAsync(ct);
                context.State.Value = 1;
            })
            .Build();
        var engine = CreateEngine(flow);
        using var giveUp = new CancellationTokenSource();
        var waiting = engine.RunAsync(flow, new TestState(), recoveryId: "order-3", giveUp.Token);
        await Within(running.Task);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(waiting));
        release.TrySetResult();
        var outcome = await Within(engine.RunAsync(flow, new TestState(), recoveryId: "order-3"));

        Assert.True(outcome.IsCompleted);
        Assert.Equal(1, outcome.Result!.Value);
    }

    [Fact]
    public async Task RunAsync_StageThrowsItsOwnCancellation_IsRetriedAsAFailure()
    {
        var flow = Flow.Create<TestState>("own-timeout")
            .Stage("call", (_, _) => Counter.Hit("call") == 1 ? throw new TaskCanceledException("the HTTP call timed out") : Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal("in stage 'call': TaskCanceledException: the HTTP call timed out", waiting.LastError);
        Assert.True(outcome.IsCompleted);
        Assert.Equal(2, Counter["call"]);
    }

    private sealed class Increment : IStage<TestState>
    {
        public Task ExecuteAsync(StageContext<TestState> context, CancellationToken cancellationToken)
        {
            context.State.Value++;
            return Task.CompletedTask;
        }
    }
}
