using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

public sealed class CrashRecoveryTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StartAsync_RunLeftRunningByDeadOwner_InterruptsAndResumesFromLastCheckpoint()
    {
        var flow = ThreeStages();
        var dead = new DeadOwner(Store);
        var runId = await dead.LeaveRunningAsync(flow, new TestState { Value = 1 }, Lease, "a", new TestState { Value = 1, Trace = ["s1"] });
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        var engine = CreateEngine(flow);

        await engine.StartAsync();
        var outcome = await Within(engine.WaitForRunAsync(flow, runId));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["s1", "s2", "s3"], outcome.Result!.Trace);
        Assert.Equal(0, Counter["s1"]);
        Assert.Equal(1, Counter["s2"]);
        Assert.Equal(1, Counter["s3"]);
        var events = await GetEventsAsync(runId);
        Assert.Equal(
            [RunEventKind.Created, RunEventKind.Started, RunEventKind.RecoveryPointPassed, RunEventKind.Interrupted, RunEventKind.Started, RunEventKind.RecoveryPointPassed, RunEventKind.Completed],
            events.Select(e => e.Kind));
        Assert.Contains("owner dead-node is gone", events[3].Message, StringComparison.Ordinal);
        Assert.Contains($"attempt 2 resumed on {engine.NodeName} from recovery point 'a'", events[4].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_DeadOwnerBeforeFirstPoint_RestartsFromInput()
    {
        var flow = ThreeStages();
        var runId = await new DeadOwner(Store).LeaveRunningAsync(flow, new TestState { Trace = ["input"] }, Lease);
        Time.Advance(Lease);
        var engine = CreateEngine(flow);

        await engine.StartAsync();
        var outcome = await Within(engine.WaitForRunAsync(flow, runId));

        Assert.Equal(["input", "s1", "s2", "s3"], outcome.Result!.Trace);
        Assert.Equal(1, Counter["s1"]);
    }

    [Fact]
    public async Task StartAsync_ResumedRun_SeesRecoveryInfo()
    {
        RecoveryInfo? seen = null;
        var flow = Flow.Create<TestState>("crash-info")
            .Stage("s1", Counter.Step("s1"))
            .RecoveryPoint("a")
            .Stage("s2", (context, _) =>
            {
                seen = context.Recovery;
                return Task.CompletedTask;
            })
            .Build();
        var runId = await new DeadOwner(Store).LeaveRunningAsync(flow, new TestState(), Lease, "a", new TestState());
        Time.Advance(Lease);
        var engine = CreateEngine(flow);

        await engine.StartAsync();
        await Within(engine.WaitForRunAsync(flow, runId));

        Assert.Equal(new RecoveryInfo(IsResumed: true, ResumedFrom: "a", Attempt: 2, LastError: null), seen);
    }

    [Fact]
    public async Task StartAsync_OtherOwnerLeaseStillValid_LeavesRunAlone()
    {
        var flow = ThreeStages();
        var runId = await new DeadOwner(Store, "live-node").LeaveRunningAsync(flow, new TestState(), Lease, "a", new TestState());
        var engine = CreateEngine(flow);

        await engine.StartAsync();

        var run = await GetRunAsync(runId);
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Equal("live-node", run.Owner);
        Assert.Equal(1, run.Attempt);
        Assert.Equal(0, Counter["s2"]);
    }

    [Fact]
    public async Task HeartbeatLoop_OwnerLeaseExpiresWhileEngineRuns_InterruptsAndResumesRun()
    {
        var flow = ThreeStages();
        var runId = await new DeadOwner(Store).LeaveRunningAsync(flow, new TestState(), Lease, "b", new TestState { Trace = ["s1", "s2"] });
        var engine = CreateEngine(flow);
        await engine.StartAsync();
        Assert.Equal(RunStatus.Running, (await GetRunAsync(runId)).Status);

        // The heartbeat (every third of the lease) finds the expired lease; the next poll claims the run.
        await AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => Counter["s3"] == 1, "the resumed run's last stage");
        var outcome = await Within(engine.WaitForRunAsync(flow, runId));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["s1", "s2", "s3"], outcome.Result!.Trace);
        Assert.Equal(0, Counter["s1"]);
        Assert.Equal(0, Counter["s2"]);
        Assert.Equal(1, Counter["s3"]);
        var interrupted = Assert.Single(await GetEventsAsync(runId), e => e.Kind == RunEventKind.Interrupted);
        Assert.True(interrupted.Time >= FakeStart + Lease);
    }

    [Fact]
    public async Task StartAsync_ResumeAfterRetryInterval_WaitsForTheInterval()
    {
        var flow = ThreeStages();
        var runId = await new DeadOwner(Store).LeaveRunningAsync(flow, new TestState(), Lease, "a", new TestState { Trace = ["s1"] });
        Time.Advance(Lease);
        var engine = CreateEngine(flow, o =>
        {
            o.ResumeInterruptedRuns = InterruptedRunResume.AfterRetryInterval;
            o.DefaultRetryPolicy = RetryPolicy.Default with { Interval = TimeSpan.FromSeconds(20) };
        });

        await engine.StartAsync();

        var interrupted = await GetRunAsync(runId);
        Assert.Equal(RunStatus.Interrupted, interrupted.Status);
        Assert.Equal(Time.GetUtcNow() + TimeSpan.FromSeconds(20), interrupted.DueAt);
        Assert.Equal(0, Counter["s2"]);

        AdvanceAndWake(engine, TimeSpan.FromSeconds(20));
        var outcome = await Within(engine.WaitForRunAsync(flow, runId));

        Assert.True(outcome.IsCompleted, outcome.Error);
        var events = await GetEventsAsync(runId);
        var interruptedAt = events.Single(e => e.Kind == RunEventKind.Interrupted).Time;
        Assert.Equal(interruptedAt + TimeSpan.FromSeconds(20), events.Last(e => e.Kind == RunEventKind.Started).Time);
    }

    [Fact]
    public async Task StartAsync_ResumeImmediately_DoesNotWait()
    {
        var flow = ThreeStages();
        var runId = await new DeadOwner(Store).LeaveRunningAsync(flow, new TestState(), Lease, "a", new TestState());
        Time.Advance(Lease);
        var engine = CreateEngine(flow, o => o.ResumeInterruptedRuns = InterruptedRunResume.Immediately);

        await engine.StartAsync();
        var outcome = await Within(engine.WaitForRunAsync(flow, runId));

        Assert.True(outcome.IsCompleted);
        Assert.Equal(FakeStart + Lease, Time.GetUtcNow());
    }

    [Fact]
    public async Task ClaimedRun_DeadOwnerWritesAfterResume_IsFencedOff()
    {
        var flow = ThreeStages();
        var store = Store;
        var inputBytes = new JsonStateSerializer().Serialize(new TestState());
        var runId = await new DeadOwner(store).LeaveRunningAsync(flow, new TestState(), Lease);
        var staleLease = new RunLease(runId, "dead-node", 1);
        Time.Advance(Lease);
        var engine = CreateEngine(flow);
        await engine.StartAsync();
        await Within(engine.WaitForRunAsync(flow, runId));

        await Assert.ThrowsAsync<RunOwnershipLostException>(() =>
            store.SaveCheckpointAsync(staleLease, new Checkpoint(9, FlowPath.Of(1), "a", null, inputBytes, Checksum.Compute(inputBytes)), 1, Ct));
        Assert.Equal(RunStatus.Completed, (await GetRunAsync(runId)).Status);
    }

    private DateTimeOffset FakeStart => Time.Start;

    private Flow<TestState> ThreeStages() =>
        Flow.Create<TestState>("crash")
            .Stage("s1", Counter.Step("s1"))
            .RecoveryPoint("a")
            .Stage("s2", Counter.Step("s2"))
            .RecoveryPoint("b")
            .Stage("s3", Counter.Step("s3"))
            .Build();
}
