using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

public sealed class CancelTests(ITestOutputHelper output) : EngineTest(output)
{
    private readonly SlowStageFlow _slow = new();

    [Fact]
    public async Task CancelRunAsync_RunningStage_CancelsItsTokenAndEndsCancelled()
    {
        var never = NewGate();
        var flow = SlowSecondStage(never.Task);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(_slow.Entered.Task);

        var cancelled = await engine.CancelRunAsync(run.Id);

        Assert.Equal(RunStatus.Cancelled, cancelled.Status);
        Assert.True(await Within(_slow.Cancelled.Task));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));
        Assert.Equal(RunStatus.Cancelled, outcome.Status);
        Assert.Equal("Cancelled", outcome.Error);

        // Let the attempt finish recording, then check that it did not overwrite the cancellation.
        await Within(engine.StopAsync());
        var after = await GetRunAsync(run.Id);
        Assert.Equal(RunStatus.Cancelled, after.Status);
        Assert.Equal(Time.GetUtcNow(), after.FinishedAt);
        var events = await GetEventsAsync(run.Id);
        Assert.Equal(RunEventKind.Cancelled, events[^1].Kind);
        Assert.Equal("cancelled by request", events[^1].Message);
        Assert.DoesNotContain(events, e => e.Kind is RunEventKind.Interrupted or RunEventKind.Failed or RunEventKind.RetryScheduled);
        Assert.Equal(0, Counter["last"]);
    }

    [Fact]
    public async Task CancelRunAsync_RunningStage_KeepsCheckpoints()
    {
        var never = NewGate();
        var flow = SlowSecondStage(never.Task);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(_slow.Entered.Task);

        await engine.CancelRunAsync(run.Id);
        await Within(engine.StopAsync());

        var data = await Store.GetRecoveryDataAsync(run.Id, Ct);
        Assert.NotNull(data.Input);
        Assert.NotNull(data.Checkpoint);
        Assert.Equal("first-done", data.Checkpoint.RecoveryPoint);
        Assert.Equal(["first"], engine.Serializer.Deserialize<TestState>(data.Checkpoint.State.Span).Trace);
    }

    [Fact]
    public async Task RerunAsync_CancelledRun_ResumesFromItsCheckpoint()
    {
        var release = NewGate();
        var flow = SlowSecondStage(release.Task);
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(_slow.Entered.Task);
        await engine.CancelRunAsync(run.Id);
        await Within(_slow.Cancelled.Task);
        release.TrySetResult();

        await engine.RerunAsync(run.Id);
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["first", "slow", "last"], outcome.Result!.Trace);
        Assert.Equal(1, Counter["first"]);
        Assert.Equal(2, Counter["slow"]);
    }

    [Fact]
    public async Task CancelRunAsync_WaitingRun_CancelsWithoutRunning()
    {
        var flow = Flow.Create<TestState>("cancel-waiting")
            .Stage("fail", (_, _) => throw new InvalidOperationException("no"))
            .Build();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);

        await engine.CancelRunAsync(run.Id);
        AdvanceAndWake(engine, TimeSpan.FromMinutes(1));
        await Within(engine.StopAsync());

        var after = await GetRunAsync(run.Id);
        Assert.Equal(RunStatus.Cancelled, after.Status);
        Assert.Equal(1, after.Attempt);
    }

    [Fact]
    public async Task CancelRunAsync_CompletedRun_Throws()
    {
        var flow = Flow.Create<TestState>("cancel-completed").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow);
        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        var error = await Assert.ThrowsAsync<InvalidRunStateException>(() => engine.CancelRunAsync(outcome.RunId));

        Assert.Equal(RunStatus.Completed, (await GetRunAsync(outcome.RunId)).Status);
        Assert.NotNull(error.Message);
    }

    [Fact]
    public async Task CancelRunAsync_UnknownRun_ThrowsRunNotFound()
    {
        var flow = Flow.Create<TestState>("cancel-unknown").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow);

        await Assert.ThrowsAsync<RunNotFoundException>(() => engine.CancelRunAsync(RunId.New()));
    }

    [Fact]
    public async Task CancelRunAsync_RerunStartedBeforeCancelledAttemptEnded_CancelsNewAttempt()
    {
        var never = NewGate();
        var inFirst = NewGate();
        var holdFirst = NewGate();
        var inSecond = NewGate();
        var secondCancelled = NewGate();
        var flow = Flow.Create<TestState>("overlap")
            .Stage("slow", async (_, ct) =>
            {
                var attempt = Counter.Hit("slow");
                (attempt == 1 ? inFirst : inSecond).TrySetResult();
                try
                {
                    await never.Task.WaitAsync(ct);
                }
                catch (OperationCanceledException) when (attempt == 1)
                {
                    // The cancelled attempt is slow to wind down, so the re-run starts while it still runs.
                    await holdFirst.Task;
                    throw;
                }
                catch (OperationCanceledException)
                {
                    secondCancelled.TrySetResult();
                    throw;
                }
            })
            .Build();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(inFirst.Task);
        await engine.CancelRunAsync(run.Id);
        await engine.RerunAsync(run.Id);
        await Within(inSecond.Task);

        // The first attempt's end is announced after the engine forgot it; wait for that, then cancel the second.
        var evaluations = 0;
        var firstEnded = engine.WaitForAsync(run.Id, _ => evaluations++ > 0, CancellationToken.None);
        holdFirst.TrySetResult();
        await Within(firstEnded);
        await engine.CancelRunAsync(run.Id);

        await Within(secondCancelled.Task);
        Assert.Equal(RunStatus.Cancelled, (await GetRunAsync(run.Id)).Status);
    }

    [Fact]
    public async Task CancelRunAsync_StageIgnoresItsToken_AttemptAbandonsTheRunLoggingItsIdAsAFieldOnly()
    {
        var release = NewGate();
        var flow = Flow.Create<TestState>("stubborn")
            .Stage("stubborn", async (context, _) =>
            {
                _slow.Entered.TrySetResult();
                await release.Task; // Deaf to its token: it finishes after the run was cancelled.
                context.State.Trace.Add("stubborn");
            })
            .RecoveryPoint("stubborn-done")
            .Stage("last", Counter.Step("last"))
            .Build();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(_slow.Entered.Task);
        await engine.CancelRunAsync(run.Id);

        release.TrySetResult();
        await Within(engine.StopAsync());

        var abandoned = Assert.Single(Logs.GetSnapshot(), r => r.Id.Id == Cairn.Diagnostics.CairnEventId.RunAbandoned);
        Assert.Equal("Cairn.Engine", abandoned.Category);
        var fields = abandoned.StructuredState!.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(run.Id.ToString(), fields["RunId"]);
        Assert.Equal(engine.NodeName, fields["Owner"]);
        Assert.Equal("1", fields["LeaseEpoch"]);
        Assert.All(fields.Where(p => p.Key != "RunId"), p => Assert.DoesNotContain(run.Id.ToString(), p.Value ?? "", StringComparison.Ordinal));
        Assert.Equal(RunStatus.Cancelled, (await GetRunAsync(run.Id)).Status);
        Assert.Equal(0, Counter["last"]);
    }

    private Flow<TestState> SlowSecondStage(Task slowStageWaitsFor) => _slow.Build("cancel", Counter, slowStageWaitsFor);
}
