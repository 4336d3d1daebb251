using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

public sealed class ShutdownTests(ITestOutputHelper output) : EngineTest(output)
{
    private readonly SlowStageFlow _slow = new();

    [Fact]
    public async Task StopAsync_StageFinishesBeforeTimeout_SavesNextPointAndLeavesRunInterrupted()
    {
        var release = NewGate();
        var flow = ThreeStages(release.Task);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(_slow.Entered.Task);

        var stopping = engine.StopAsync();
        Assert.True(engine.IsStopping);
        release.TrySetResult();
        await Within(stopping);

        var stopped = await GetRunAsync(run.Id);
        Assert.Equal(RunStatus.Interrupted, stopped.Status);
        Assert.Equal("slow-done", stopped.LastRecoveryPoint);
        Assert.Null(stopped.LastError);
        Assert.Equal(1, Counter["slow"]);
        Assert.Equal(0, Counter["last"]);
        var events = await GetEventsAsync(run.Id);
        Assert.Equal(RunEventKind.Interrupted, events[^1].Kind);
        Assert.Contains("stopped before stage 'last'", events[^1].Message, StringComparison.Ordinal);
        Assert.Equal(FakeStart, Time.GetUtcNow());
    }

    [Fact]
    public async Task StartAsync_RunInterruptedByGracefulStop_NewEngineResumesAfterLastPoint()
    {
        var release = NewGate();
        var flow = ThreeStages(release.Task);
        var first = CreateEngine(flow);
        var run = await first.StartRunAsync(flow, new TestState());
        await Within(_slow.Entered.Task);
        var stopping = first.StopAsync();
        release.TrySetResult();
        await Within(stopping);

        var second = CreateEngine(flow);
        await second.StartAsync();
        var outcome = await Within(second.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["first", "slow", "last"], outcome.Result!.Trace);
        Assert.Equal(1, Counter["first"]);
        Assert.Equal(1, Counter["slow"]);
        Assert.Equal(1, Counter["last"]);
        var resumed = (await GetEventsAsync(run.Id)).Last(e => e.Kind == RunEventKind.Started);
        Assert.Contains($"resumed on {second.NodeName} from recovery point 'slow-done'", resumed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_StageOutlastsShutdownTimeout_CancelsStageAndLeavesRunInterrupted()
    {
        var never = new TaskCompletionSource();
        var flow = ThreeStages(never.Task);
        var engine = CreateEngine(flow, o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(_slow.Entered.Task);

        var stopping = engine.StopAsync();
        await AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => stopping.IsCompleted, "the shutdown timeout");
        await Within(stopping);

        Assert.True(await Within(_slow.Cancelled.Task));
        Assert.True(Time.GetUtcNow() - FakeStart >= TimeSpan.FromSeconds(5));
        var stopped = await GetRunAsync(run.Id);
        Assert.Equal(RunStatus.Interrupted, stopped.Status);
        Assert.Equal("first-done", stopped.LastRecoveryPoint);
        Assert.Null(stopped.LastError);
        Assert.Equal(0, stopped.RetriesUsed);
        var last = (await GetEventsAsync(run.Id))[^1];
        Assert.Equal(RunEventKind.Interrupted, last.Kind);
        Assert.Contains("cancelled in stage 'slow' by engine shutdown", last.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_RunInterruptedPastShutdownTimeout_NewEngineResumesAfterPreviousPoint()
    {
        var never = new TaskCompletionSource();
        var flow = ThreeStages(never.Task);
        var first = CreateEngine(flow, o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var run = await first.StartRunAsync(flow, new TestState());
        await Within(_slow.Entered.Task);
        var stopping = first.StopAsync();
        await AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => stopping.IsCompleted, "the shutdown timeout");
        await Within(stopping);

        var release = NewGate();
        release.TrySetResult();
        var fixedFlow = ThreeStages(release.Task);
        var second = CreateEngine(fixedFlow);
        await second.StartAsync();
        var outcome = await Within(second.WaitForRunAsync(fixedFlow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["first", "slow", "last"], outcome.Result!.Trace);
        Assert.Equal(1, Counter["first"]);
        Assert.Equal(2, Counter["slow"]);
    }

    [Fact]
    public async Task StopAsync_Idle_StopsAndRefusesNewRuns()
    {
        var flow = Flow.Create<TestState>("idle").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow);
        await engine.StartAsync();

        await Within(engine.StopAsync());

        await Assert.ThrowsAsync<ObjectDisposedException>(() => engine.StartRunAsync(flow, new TestState()));
        Assert.Empty(await Store.ListRunsAsync(new Cairn.Runs.RunQuery(), Ct));
    }

    private DateTimeOffset FakeStart => Time.Start;

    private Flow<TestState> ThreeStages(Task slowStageWaitsFor) => _slow.Build("shutdown", Counter, slowStageWaitsFor);
}
