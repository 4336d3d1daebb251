using System.Text;
using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

/// <summary>Durable timers (Delay), external signals (WaitFor, SignalAsync) and the recovery switch, on the in-memory store and a fake clock.</summary>
public sealed class WaitTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private Flow<TestState> DelayFlow(TimeSpan duration) => Flow.Create<TestState>("cool-off")
        .Stage("a", Counter.Step("a"))
        .Delay("cool-off", duration)
        .Stage("b", Counter.Step("b"))
        .Build();

    private Flow<TestState> ApprovalFlow(TimeSpan? timeout = null, bool timeoutBranch = false, Func<StageContext<TestState>, CancellationToken, Task>? first = null) =>
        Flow.Create<TestState>("approval")
            .Stage("submit", first ?? Counter.Step("submit"))
            .WaitFor<int>("approval", (state, amount) => state.Value = amount, timeout, timeoutBranch ? body => body.Stage("escalate", Counter.Step("escalate")) : null)
            .Stage("pay", Counter.Step("pay"))
            .Build();

    [Fact]
    public async Task Delay_RunSavesItsStateAndWaitsWithoutASlot_GoesOnWhenTheTimeComes()
    {
        var flow = DelayFlow(Hour);
        var engine = CreateEngine(flow, o => o.MaxConcurrentRuns = 1);
        var started = Time.GetUtcNow();
        var run = await engine.StartRunAsync(flow, new TestState());

        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.Waiting);
        Assert.Equal(started + Hour, waiting.DueAt);
        Assert.Null(waiting.LeaseExpiresAt);
        var checkpoint = Assert.IsType<CheckpointState>(await engine.Operator.GetLatestCheckpointAsync(run.Id));
        Assert.Equal("cool-off", checkpoint.Checkpoint.RecoveryPoint);
        Assert.Contains(await GetEventsAsync(run.Id), e => e.Kind == RunEventKind.Waiting && e.Message.Contains("delay 'cool-off'", StringComparison.Ordinal));

        // The slot is free while it waits: another run starts and ends although only one may run at a time.
        var quick = Flow.Create<TestState>("quick").Stage("a", Counter.Step("a")).Build();
        var other = await Within(engine.RunAsync(quick, new TestState(), "no-wait"));
        Assert.Equal(RunStatus.Completed, other.Status);

        AdvanceAndWake(engine, Hour - TimeSpan.FromMinutes(1));
        await Task.Delay(50);
        Assert.Equal(RunStatus.Waiting, (await GetRunAsync(run.Id)).Status);

        AdvanceAndWake(engine, TimeSpan.FromMinutes(1));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));
        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(["a", "b"], outcome.Result!.Trace);
        Assert.Equal(2, Counter["a"]); // once per run: the quick run's and this one's
    }

    [Fact]
    public async Task Delay_UntilATimeFromTheState_ThatHasPassed_GoesOnWithoutWaiting()
    {
        var flow = Flow.Create<TestState>("due-date")
            .Stage("a", Counter.Step("a"))
            .Delay("until-due", state => DateTimeOffset.FromUnixTimeSeconds(state.Value))
            .Stage("b", Counter.Step("b"))
            .Build();
        var engine = CreateEngine(flow);

        var past = await Within(engine.RunAsync(flow, new TestState { Value = 1000 }));
        Assert.Equal(RunStatus.Completed, past.Status);
        Assert.DoesNotContain(await GetEventsAsync(past.RunId), e => e.Kind == RunEventKind.Waiting);

        var dueAt = Time.GetUtcNow().AddDays(30);
        var future = await engine.StartRunAsync(flow, new TestState { Value = (int)dueAt.ToUnixTimeSeconds() });
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(dueAt.ToUnixTimeSeconds()), (await WaitForStatusAsync(engine, future.Id, RunStatus.Waiting)).DueAt);
    }

    [Fact]
    public async Task Delay_EngineRestartsWhileTheRunWaits_TheNextEngineResumesItAfterTheTime()
    {
        var flow = DelayFlow(TimeSpan.FromDays(30));
        var first = CreateEngine(flow);
        var run = await first.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(first, run.Id, RunStatus.Waiting);
        await first.DisposeAsync();

        Time.Advance(TimeSpan.FromDays(30));
        var second = CreateEngine(flow);
        await second.StartAsync();
        var outcome = await Within(second.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(["a", "b"], outcome.Result!.Trace);
        Assert.Equal(1, Counter["a"]);
    }

    [Fact]
    public async Task WaitFor_SignalWakesTheWaitingRun_ThePayloadReachesTheState()
    {
        var flow = ApprovalFlow();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.Waiting);
        Assert.True(waiting.DueAt > Time.GetUtcNow().AddYears(50), "a wait without a timeout is due only when signalled");

        var delivery = await engine.SignalAsync(run.Id, "approval", 250, "approval-1");

        Assert.False(delivery.Duplicate);
        Assert.Equal("approval-1", delivery.SignalId);
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));
        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(250, outcome.Result!.Value);
        Assert.Equal(1, Counter["submit"]);
        var events = await GetEventsAsync(run.Id);
        Assert.Contains(events, e => e.Kind == RunEventKind.Signalled && e.Message.Contains("approval-1", StringComparison.Ordinal));
        var signal = Assert.Single(await engine.Operator.ListSignalsAsync(run.Id));
        Assert.Equal("250", signal.Payload);
        Assert.NotNull(signal.TakenBy);
    }

    [Fact]
    public async Task WaitFor_SignalSentBeforeTheRunReachesTheWait_IsKeptAndTakenThere_ADuplicateIsIgnored()
    {
        var inStage = NewGate();
        var release = NewGate();
        var flow = ApprovalFlow(first: async (context, ct) =>
        {
            Counter.Hit("submit");
            inStage.TrySetResult();
            await release.Task.WaitAsync(ct);
        });
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(inStage.Task);

        var first = await engine.Operator.SignalByRecoveryIdAsync("approval", run.RecoveryId, "approval", 7, "same-id");
        var second = await engine.SignalAsync(run.Id, "approval", 9, "same-id");
        release.TrySetResult();

        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));
        Assert.Equal(7, outcome.Result!.Value);
        Assert.DoesNotContain(await GetEventsAsync(run.Id), e => e.Kind == RunEventKind.Waiting);
        Assert.Single(await engine.Operator.ListSignalsAsync(run.Id));
    }

    [Fact]
    public async Task WaitFor_InALoop_EachIterationTakesItsOwnSignal()
    {
        var flow = Flow.Create<TestState>("two-approvals")
            .Stage("submit", Counter.Step("submit"))
            .Until("approvals", state => state.Trace.Count(t => t == "approved") == 2, body => body
                .WaitFor<int>("approval", (state, amount) => state.Value += amount)
                .Stage("approved", Counter.Step("approved")))
            .Build();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await engine.SignalAsync(run.Id, "approval", 1, "one");
        await engine.SignalAsync(run.Id, "approval", 1, "one"); // the same signal again: ignored

        await WaitForAsync(engine, run.Id, r => r.Status == RunStatus.Waiting && r.CheckpointSequence >= 2, "waiting for its second signal");
        await engine.SignalAsync(run.Id, "approval", 10, "two");

        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));
        Assert.Equal(11, outcome.Result!.Value);
        Assert.Equal(2, Counter["approved"]);
    }

    [Fact]
    public async Task WaitFor_TimeoutPassesFirst_TheTimeoutBranchRuns()
    {
        var flow = ApprovalFlow(timeout: Hour, timeoutBranch: true);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        Assert.Equal(Time.GetUtcNow() + Hour, (await WaitForStatusAsync(engine, run.Id, RunStatus.Waiting)).DueAt);

        AdvanceAndWake(engine, Hour);
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(["submit", "escalate", "pay"], outcome.Result!.Trace);
    }

    [Fact]
    public async Task WaitFor_TimeoutWithoutABranch_FailsTheRunForGood()
    {
        var flow = ApprovalFlow(timeout: Hour);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.Waiting);

        AdvanceAndWake(engine, Hour);
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("no signal came within its timeout of 01:00:00", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await GetRunAsync(run.Id)).RetriesUsed);
        Assert.Equal(0, Counter["pay"]);
    }

    [Fact]
    public async Task WaitFor_PayloadThatCannotBeRead_IsLeftUntaken_TheRunWaitsOnForAGoodOne()
    {
        var flow = ApprovalFlow();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.Waiting);

        await engine.Operator.SignalJsonAsync(run.Id, "approval", Encoding.UTF8.GetBytes("\"lots\""), "bad");
        await WaitForAsync(engine, run.Id, r => r.Status == RunStatus.Waiting && r.Attempt >= 2, "waiting again after the bad signal");
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == CairnEventId.SignalRejected && r.Level == LogLevel.Warning && r.Message.Contains("'bad'", StringComparison.Ordinal) is false && r.Message.Contains("ID bad", StringComparison.Ordinal));

        await engine.SignalAsync(run.Id, "approval", 5, "good");
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));
        Assert.Equal(5, outcome.Result!.Value);
        var signals = await engine.Operator.ListSignalsAsync(run.Id);
        Assert.Null(signals.Single(s => s.Id == "bad").TakenBy);
        Assert.NotNull(signals.Single(s => s.Id == "good").TakenBy);
    }

    [Fact]
    public async Task Signal_ForAFinishedOrUnknownRun_IsRefusedWithAClearError()
    {
        var flow = DelayFlow(TimeSpan.Zero);
        var engine = CreateEngine(flow);
        var done = await Within(engine.RunAsync(flow, new TestState()));

        var finished = await Assert.ThrowsAsync<InvalidRunStateException>(() => engine.SignalAsync(done.RunId, "approval", 1));
        Assert.Equal($"Run {done.RunId} is Completed: it cannot be signalled; only unfinished runs can.", finished.Message);
        var unknown = await Assert.ThrowsAsync<RunNotFoundException>(() => engine.Operator.SignalByRecoveryIdAsync("cool-off", "nobody", "approval", 1));
        Assert.Equal("No run of flow 'cool-off' has the recovery ID 'nobody' (it may have been purged).", unknown.Message);
    }

    [Fact]
    public void WaitsInsideParallelBranches_AreRefusedWhenTheFlowIsBuilt()
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>("parallel-wait")
            .Stage("a", Counter.Step("a"))
            .Parallel<TestState>("both", branches => branches
                .Branch("left", s => s, body => body.Stage("l", Counter.Step("l")).Delay("nap", Hour))
                .Branch("right", s => s, body => body.Stage("r", Counter.Step("r"))), (_, _) => { })
            .Build());
        Assert.Contains("delay 'nap' is inside parallel 'both'", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Flow.Create<TestState>("bad-timeout").WaitFor<int>("x", (_, _) => { }, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => Flow.Create<TestState>("branch-without-timeout").WaitFor<int>("x", (_, _) => { }, null, body => body.Stage("s", Counter.Step("s"))));
    }

    [Fact]
    public async Task RecoverySwitchOff_LeavesInterruptedRunsAlone_NewRunsStillRun_SwitchedOnTheNextStartResumesThem()
    {
        var flow = Flow.Create<TestState>("switch")
            .Stage("a", Counter.Step("a"))
            .RecoveryPoint("a-done")
            .Stage("b", Counter.Step("b"))
            .Build();
        var interrupted = await new DeadOwner(Store).LeaveRunningAsync(flow, new TestState(), TimeSpan.FromSeconds(5), "a-done", new TestState { Trace = ["a"] });
        Time.Advance(TimeSpan.FromSeconds(10));

        var off = CreateEngine(flow, o => o.RecoverInterruptedRuns = false);
        await off.StartAsync();
        var fresh = await Within(off.RunAsync(flow, new TestState(), "fresh"));
        AdvanceAndWake(off, TimeSpan.FromMinutes(5));
        await Task.Delay(50);

        Assert.Equal(RunStatus.Completed, fresh.Status);
        var left = await GetRunAsync(interrupted);
        Assert.Equal(RunStatus.Interrupted, left.Status);
        Assert.Equal(1, left.CheckpointSequence);
        var warning = Assert.Single(Logs.GetSnapshot(), r => r.Id.Id == CairnEventId.EngineStartedWithoutRecovery);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("1 interrupted run(s) are left as they are", warning.Message, StringComparison.Ordinal);
        await off.DisposeAsync();

        var on = CreateEngine(flow);
        await on.StartAsync();
        var resumed = await Within(on.WaitForRunAsync(flow, interrupted));
        Assert.Equal(RunStatus.Completed, resumed.Status);
        Assert.Equal(["a", "b"], resumed.Result!.Trace);
        Assert.Equal(1, Counter["a"]); // only the fresh run ran "a": the interrupted one resumed after its recovery point
    }
}
