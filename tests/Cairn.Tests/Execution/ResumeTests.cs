using System.Collections.Concurrent;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

public sealed class ResumeTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly RetryPolicy TenSeconds = RetryPolicy.Default with { Interval = TimeSpan.FromSeconds(10) };

    private readonly ConcurrentQueue<(string Stage, RecoveryInfo Recovery, string Key, List<string> TraceOnEntry)> _seen = new();

    [Fact]
    public async Task Retry_FailureAfterSecondRecoveryPoint_ResumesAtStageAfterIt()
    {
        var flow = FailingOnceAfterSecondPoint();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Equal("p2", waiting.LastRecoveryPoint);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(1, Counter["s1"]);
        Assert.Equal(1, Counter["s2"]);
        Assert.Equal(2, Counter["s3"]);
        Assert.Equal(1, Counter["s4"]);
        var started = (await GetEventsAsync(run.Id)).Where(e => e.Kind == RunEventKind.Started).Select(e => e.Message).ToList();
        Assert.Equal(2, started.Count);
        Assert.Contains("resumed", started[1], StringComparison.Ordinal);
        Assert.Contains("from recovery point 'p2'", started[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_FailureAfterSecondRecoveryPoint_RestoresStateFromCheckpoint()
    {
        var flow = FailingOnceAfterSecondPoint();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState { Value = 1 });
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        // The failed attempt's change after p2 ("s3-attempt1", Value = 100) is gone; everything before p2 is there.
        Assert.Equal(["s1", "s2", "s3-attempt2", "s4"], outcome.Result!.Trace);
        Assert.Equal(2, outcome.Result.Value);
        var retried = _seen.Where(s => s.Stage == "s3").Select(s => s.TraceOnEntry).ToList();
        Assert.Equal([["s1", "s2"], ["s1", "s2"]], retried);
    }

    [Fact]
    public async Task Retry_SecondAttempt_SeesRecoveryInfo()
    {
        var flow = FailingOnceAfterSecondPoint();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        await Within(engine.WaitForRunAsync(flow, run.Id));

        var first = _seen.Single(s => s.Stage == "s1").Recovery;
        Assert.Equal(new RecoveryInfo(IsResumed: false, ResumedFrom: null, Attempt: 1, LastError: null), first);
        var attempts = _seen.Where(s => s.Stage == "s3").Select(s => s.Recovery).ToList();
        Assert.Equal(new RecoveryInfo(false, null, 1, null), attempts[0]);
        Assert.True(attempts[1].IsResumed);
        Assert.Equal("p2", attempts[1].ResumedFrom);
        Assert.Equal(2, attempts[1].Attempt);
        Assert.Equal("in stage 's3': InvalidOperationException: s3 failed on attempt 1", attempts[1].LastError);
        Assert.Equal(attempts[1], _seen.Single(s => s.Stage == "s4").Recovery);
    }

    [Fact]
    public async Task IdempotencyKey_Retry_IsStablePerStageAndDistinctAcrossStages()
    {
        var flow = FailingOnceAfterSecondPoint();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        await Within(engine.WaitForRunAsync(flow, run.Id));

        var s3Keys = _seen.Where(s => s.Stage == "s3").Select(s => s.Key).ToList();
        Assert.Equal(2, s3Keys.Count);
        Assert.Equal(s3Keys[0], s3Keys[1]);
        var keys = _seen.Select(s => s.Key).Distinct().ToList();
        Assert.Equal(4, keys.Count);
        Assert.All(keys, k => Assert.Contains(run.Id.ToString(), k, StringComparison.Ordinal));
    }

    [Fact]
    public async Task IdempotencyKey_TwoRuns_Differ()
    {
        var keys = new ConcurrentBag<string>();
        var flow = Flow.Create<TestState>("keys")
            .Stage("call", (context, _) =>
            {
                keys.Add(context.IdempotencyKey);
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(flow);

        await Within(engine.RunAsync(flow, new TestState()));
        await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(2, keys.Distinct().Count());
    }

    [Fact]
    public async Task Retry_FailureBeforeFirstRecoveryPoint_RestartsFromInput()
    {
        var flow = Flow.Create<TestState>("restart")
            .Stage("s1", (context, _) =>
            {
                var attempt = Counter.Hit("s1");
                context.State.Trace.Add($"s1-attempt{attempt}");
                _seen.Enqueue(("s1", context.Recovery, context.IdempotencyKey, [.. context.State.Trace]));
                return attempt == 1 ? throw new InvalidOperationException("first attempt fails") : Task.CompletedTask;
            })
            .RecoveryPoint("p1")
            .Stage("s2", Counter.Step("s2"))
            .Retry(TenSeconds)
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState { Trace = ["input"] });
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(["input", "s1-attempt2", "s2"], outcome.Result!.Trace);
        var second = _seen.Last().Recovery;
        Assert.True(second.IsResumed);
        Assert.Null(second.ResumedFrom);
        Assert.Equal(2, second.Attempt);
    }

    [Fact]
    public async Task Retry_CheckpointsToKeepOne_KeepsOnlyNewestCheckpoint()
    {
        var flow = FailingOnceAfterSecondPoint();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);

        var data = await Store.GetRecoveryDataAsync(run.Id, Ct);
        Assert.NotNull(data.Checkpoint);
        Assert.Equal("p2", data.Checkpoint.RecoveryPoint);
        Assert.Equal(2, data.Checkpoint.Sequence);
        Assert.Equal(2, waiting.CheckpointSequence);
        Assert.NotNull(data.Input);
        Assert.Equal(["s1", "s2"], engine.Serializer.Deserialize<TestState>(data.Checkpoint.State.Span).Trace);
    }

    private Flow<TestState> FailingOnceAfterSecondPoint() =>
        Flow.Create<TestState>("resume")
            .Stage("s1", (context, _) => Record("s1", context))
            .RecoveryPoint("p1")
            .Stage("s2", (context, _) =>
            {
                context.State.Value *= 2;
                return Record("s2", context);
            })
            .RecoveryPoint("p2")
            .Stage("s3", (context, _) =>
            {
                _seen.Enqueue(("s3", context.Recovery, context.IdempotencyKey, [.. context.State.Trace]));
                var attempt = Counter.Hit("s3");
                context.State.Trace.Add($"s3-attempt{attempt}");
                if (attempt == 1)
                {
                    context.State.Value = 100;
                    throw new InvalidOperationException("s3 failed on attempt 1");
                }

                return Task.CompletedTask;
            })
            .Stage("s4", (context, _) => Record("s4", context))
            .Retry(TenSeconds)
            .Build();

    private Task Record(string stage, StageContext<TestState> context)
    {
        _seen.Enqueue((stage, context.Recovery, context.IdempotencyKey, [.. context.State.Trace]));
        Counter.Hit(stage);
        context.State.Trace.Add(stage);
        return Task.CompletedTask;
    }
}
