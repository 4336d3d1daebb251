using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

public sealed class RecoveryIdTests(ITestOutputHelper output) : EngineTest(output)
{
    [Fact]
    public async Task RunAsync_SameIdAndInputAsCompletedRun_ReturnsStoredResultWithoutRunning()
    {
        var flow = TwoStages("completed", failSecondOnce: false);
        var engine = CreateEngine(flow);
        var first = await Within(engine.RunAsync(flow, new TestState { Value = 3 }, recoveryId: "order-1"));

        var second = await Within(engine.RunAsync(flow, new TestState { Value = 3 }, recoveryId: "order-1"));

        Assert.False(first.WasAlreadyCompleted);
        Assert.True(second.WasAlreadyCompleted);
        Assert.True(second.IsCompleted);
        Assert.Equal(first.RunId, second.RunId);
        Assert.Equal("order-1", second.RecoveryId);
        Assert.Equal(["first", "second"], second.Result!.Trace);
        Assert.Equal(3, second.Result.Value);
        Assert.Equal(1, Counter["first"]);
        Assert.Equal(1, Counter["second"]);
        Assert.Single(await Store.ListRunsAsync(new Cairn.Runs.RunQuery(), Ct));
        Assert.Equal(RunEventKind.Completed, (await GetEventsAsync(first.RunId))[^1].Kind);
    }

    [Fact]
    public async Task StartRunAsync_SameIdAndInputAsCompletedRun_ReturnsCompletedRecord()
    {
        var flow = TwoStages("completed-record", failSecondOnce: false);
        var engine = CreateEngine(flow);
        var first = await Within(engine.RunAsync(flow, new TestState(), recoveryId: "order-1"));

        var again = await engine.StartRunAsync(flow, new TestState(), recoveryId: "order-1");

        Assert.Equal(first.RunId, again.Id);
        Assert.Equal(RunStatus.Completed, again.Status);
    }

    [Fact]
    public async Task StartRunAsync_SameIdDifferentInput_ThrowsConflict()
    {
        var flow = TwoStages("conflict", failSecondOnce: false);
        var engine = CreateEngine(flow);
        var first = await Within(engine.RunAsync(flow, new TestState { Value = 1 }, recoveryId: "order-1"));

        var error = await Assert.ThrowsAsync<RecoveryIdConflictException>(() => engine.StartRunAsync(flow, new TestState { Value = 2 }, recoveryId: "order-1"));

        Assert.Equal(first.RunId, error.ExistingRun);
        Assert.Contains("Recovery ID 'order-1' of flow 'conflict'", error.Message, StringComparison.Ordinal);
        Assert.Contains("different input", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, Counter["first"]);
    }

    [Fact]
    public async Task StartRunAsync_SameIdDifferentInputWhileUnfinished_ThrowsConflict()
    {
        var flow = TwoStages("conflict-unfinished", failSecondOnce: true, RetryPolicy.None);
        var engine = CreateEngine(flow);
        var failed = await Within(engine.RunAsync(flow, new TestState { Value = 1 }, recoveryId: "order-1"));
        Assert.Equal(RunStatus.Failed, failed.Status);

        await Assert.ThrowsAsync<RecoveryIdConflictException>(() => engine.StartRunAsync(flow, new TestState { Value = 2 }, recoveryId: "order-1"));

        Assert.Equal(RunStatus.Failed, (await GetRunAsync(failed.RunId)).Status);
    }

    [Fact]
    public async Task RunAsync_SameIdAsFailedRun_ResumesFromLastCheckpoint()
    {
        var flow = TwoStages("failed", failSecondOnce: true, RetryPolicy.None);
        var engine = CreateEngine(flow);
        var failed = await Within(engine.RunAsync(flow, new TestState { Value = 5 }, recoveryId: "order-7"));
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("second failed", failed.Error, StringComparison.Ordinal);

        var resumed = await Within(engine.RunAsync(flow, new TestState { Value = 5 }, recoveryId: "order-7"));

        Assert.True(resumed.IsCompleted);
        Assert.False(resumed.WasAlreadyCompleted);
        Assert.Equal(failed.RunId, resumed.RunId);
        Assert.Equal(1, Counter["first"]);
        Assert.Equal(2, Counter["second"]);
        Assert.Equal(["first", "second"], resumed.Result!.Trace);
        var run = await GetRunAsync(resumed.RunId);
        Assert.Equal(2, run.Attempt);
        Assert.Equal(0, run.RetriesUsed);
        Assert.Contains(await GetEventsAsync(run.Id), e => e.Kind == RunEventKind.RerunRequested && e.Message.Contains("recovery ID 'order-7'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartRunAsync_SameIdAsRunWaitingForRetry_RunsItAtOnce()
    {
        var flow = TwoStages("waiting", failSecondOnce: true, new RetryPolicy { Interval = TimeSpan.FromHours(1), MaxInterval = TimeSpan.FromHours(1) });
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState(), recoveryId: "order-8");
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);

        var again = await engine.StartRunAsync(flow, new TestState(), recoveryId: "order-8");
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(run.Id, again.Id);
        Assert.True(outcome.IsCompleted);
        Assert.Equal(1, Counter["first"]);
        Assert.Equal(1, (await GetRunAsync(run.Id)).RetriesUsed);
    }

    [Fact]
    public async Task RunAsync_NoRecoveryId_CreatesDistinctRuns()
    {
        var flow = TwoStages("distinct", failSecondOnce: false);
        var engine = CreateEngine(flow);

        var a = await Within(engine.RunAsync(flow, new TestState()));
        var b = await Within(engine.RunAsync(flow, new TestState()));

        Assert.NotEqual(a.RunId, b.RunId);
        Assert.Equal(a.RunId.ToString(), a.RecoveryId);
        Assert.Equal(b.RunId.ToString(), b.RecoveryId);
        Assert.False(b.WasAlreadyCompleted);
        Assert.Equal(2, Counter["first"]);
    }

    [Fact]
    public async Task RunAsync_SameIdInAnotherFlow_IsAnotherRun()
    {
        var flowA = TwoStages("flow-a", failSecondOnce: false);
        var flowB = Flow.Create<TestState>("flow-b").Stage("b", Counter.Step("b")).Build();
        var engine = CreateEngine(flowA);

        var a = await Within(engine.RunAsync(flowA, new TestState(), recoveryId: "shared"));
        var b = await Within(engine.RunAsync(flowB, new TestState(), recoveryId: "shared"));

        Assert.NotEqual(a.RunId, b.RunId);
        Assert.False(b.WasAlreadyCompleted);
        Assert.Equal(1, Counter["b"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task StartRunAsync_BlankRecoveryId_Throws(string recoveryId)
    {
        var flow = TwoStages("blank", failSecondOnce: false);
        var engine = CreateEngine(flow);

        await Assert.ThrowsAsync<ArgumentException>(() => engine.StartRunAsync(flow, new TestState(), recoveryId));
    }

    private Flow<TestState> TwoStages(string name, bool failSecondOnce, RetryPolicy? policy = null)
    {
        var builder = Flow.Create<TestState>(name)
            .Stage("first", Counter.Step("first"))
            .RecoveryPoint("first-done")
            .Stage("second", (context, _) =>
            {
                if (Counter.Hit("second") == 1 && failSecondOnce)
                {
                    throw new InvalidOperationException("second failed");
                }

                context.State.Trace.Add("second");
                return Task.CompletedTask;
            });
        return (policy is null ? builder : builder.Retry(policy)).Build();
    }
}
