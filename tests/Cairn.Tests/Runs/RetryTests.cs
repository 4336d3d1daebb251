using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

public sealed class RetryTests(ITestOutputHelper output) : EngineTest(output)
{
    [Fact]
    public async Task Retry_Backoff_WaitsDoublingIntervalsCappedByMaxInterval()
    {
        var policy = new RetryPolicy
        {
            MaxRetries = 4,
            Interval = TimeSpan.FromSeconds(10),
            BackoffFactor = 2,
            MaxInterval = TimeSpan.FromMinutes(1),
        };
        var flow = AlwaysFailing("backoff", policy);
        var engine = CreateEngine(flow);
        TimeSpan[] expected = [TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(40), TimeSpan.FromMinutes(1)];

        var run = await engine.StartRunAsync(flow, new TestState());
        for (var retry = 1; retry <= expected.Length; retry++)
        {
            var waiting = await WaitForAsync(engine, run.Id, r => r.Status == RunStatus.WaitingForRetry && r.RetriesUsed == retry, $"waiting for retry {retry}");
            Assert.Equal(expected[retry - 1], waiting.DueAt - Time.GetUtcNow());
            Assert.Equal(retry, waiting.Attempt);
            AdvanceAndWake(engine, expected[retry - 1]);
        }

        var failed = await WaitForStatusAsync(engine, run.Id, RunStatus.Failed);

        Assert.Equal(5, failed.Attempt);
        Assert.Equal(4, failed.RetriesUsed);
        Assert.Equal(5, Counter["fail"]);
        var events = await GetEventsAsync(run.Id);
        var scheduled = events.Where(e => e.Kind == RunEventKind.RetryScheduled).ToList();
        var started = events.Where(e => e.Kind == RunEventKind.Started).ToList();
        Assert.Equal(4, scheduled.Count);
        for (var i = 0; i < scheduled.Count; i++)
        {
            // Each retry is claimed exactly when it falls due, not before.
            Assert.Equal(expected[i], started[i + 1].Time - scheduled[i].Time);
            Assert.Contains($"retry {i + 1} of 4 in {expected[i]}", scheduled[i].Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Retry_StoreUnavailable_TriesAgainWithoutUsingUpARetry()
    {
        var attempts = 0;
        var flow = Flow.Create<TestState>("store-down", 1)
            .Retry(new RetryPolicy { MaxRetries = 0, Interval = TimeSpan.FromSeconds(5) })
            .Stage("write", (context, _) => Interlocked.Increment(ref attempts) < 3
                ? throw new StoreUnavailableException("the database cannot be reached")
                : Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var waiting = await WaitForAsync(engine, run.Id, r => r.Status == RunStatus.WaitingForRetry && r.Attempt == attempt, $"waiting after attempt {attempt}");
            Assert.Equal(0, waiting.RetriesUsed);
            Assert.Equal(TimeSpan.FromSeconds(5), waiting.DueAt - Time.GetUtcNow());
            AdvanceAndWake(engine, TimeSpan.FromSeconds(5));
        }

        var completed = await WaitForStatusAsync(engine, run.Id, RunStatus.Completed);
        Assert.Equal(3, completed.Attempt);
        Assert.Equal(0, completed.RetriesUsed);
        var scheduled = (await GetEventsAsync(run.Id)).First(e => e.Kind == RunEventKind.RetryScheduled);
        Assert.Contains("the store was unavailable, which does not use up a retry", scheduled.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_AllRetriesUsed_FailsWithLastError()
    {
        var flow = AlwaysFailing("exhausted", new RetryPolicy { MaxRetries = 2, Interval = TimeSpan.FromSeconds(5) });
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForAsync(engine, run.Id, r => r.RetriesUsed == 1 && r.Status == RunStatus.WaitingForRetry, "waiting for retry 1");
        AdvanceAndWake(engine, TimeSpan.FromSeconds(5));
        await WaitForAsync(engine, run.Id, r => r.RetriesUsed == 2 && r.Status == RunStatus.WaitingForRetry, "waiting for retry 2");
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Equal("in stage 'fail': InvalidOperationException: attempt 3 failed", outcome.Error);
        Assert.Null(outcome.Result);
        var run2 = await GetRunAsync(run.Id);
        Assert.Equal(outcome.Error, run2.LastError);
        Assert.Equal(3, run2.Attempt);
        Assert.Equal(Time.GetUtcNow(), run2.FinishedAt);
        var failedEvent = (await GetEventsAsync(run.Id))[^1];
        Assert.Equal(RunEventKind.Failed, failedEvent.Kind);
        Assert.Contains("not retried: all 2 retries are used up", failedEvent.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_PermanentException_FailsAtOnce()
    {
        var flow = Flow.Create<TestState>("permanent")
            .Stage("read", (_, _) => throw new InvalidDataException("the CSV header is missing"))
            .Retry(RetryPolicy.Default.WithPermanent<InvalidDataException>())
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        var run = await GetRunAsync(outcome.RunId);
        Assert.Equal(1, run.Attempt);
        Assert.Equal(0, run.RetriesUsed);
        Assert.Equal("in stage 'read': InvalidDataException: the CSV header is missing", run.LastError);
        Assert.Contains("not retried: the error is permanent", (await GetEventsAsync(run.Id))[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_ExceptionDerivedFromPermanentType_FailsAtOnce()
    {
        var flow = Flow.Create<TestState>("permanent-derived")
            .Stage("open", (_, _) => throw new FileNotFoundException("orders.csv is missing"))
            .Retry(RetryPolicy.Default.WithPermanent<IOException>())
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Equal(0, (await GetRunAsync(outcome.RunId)).RetriesUsed);
    }

    [Fact]
    public async Task Retry_NonPermanentException_IsRetried()
    {
        var flow = Flow.Create<TestState>("transient")
            .Stage("call", (_, _) => throw new TimeoutException("the server did not answer"))
            .Retry(RetryPolicy.Default.WithPermanent<InvalidDataException>())
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);

        Assert.Equal(1, waiting.RetriesUsed);
        Assert.Equal("in stage 'call': TimeoutException: the server did not answer", waiting.LastError);
    }

    [Fact]
    public async Task Retry_NextRetryOutsideWindow_Fails()
    {
        var policy = new RetryPolicy { MaxRetries = 5, Interval = TimeSpan.FromSeconds(10), Window = TimeSpan.FromSeconds(25) };
        var flow = AlwaysFailing("window", policy);
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var failed = await WaitForStatusAsync(engine, run.Id, RunStatus.Failed);

        // The second retry would be due 10 s + 20 s after the start, past the 25 s window.
        Assert.Equal(1, failed.RetriesUsed);
        Assert.Equal(2, failed.Attempt);
        Assert.Contains("the next retry would fall outside the retry window of 00:00:25", (await GetEventsAsync(run.Id))[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_NoRetries_FailsOnFirstError()
    {
        var flow = AlwaysFailing("none", RetryPolicy.None);
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Equal(1, Counter["fail"]);
    }

    [Fact]
    public async Task Retry_FlowWithoutPolicy_UsesEngineDefault()
    {
        var flow = Flow.Create<TestState>("engine-default").Stage("fail", (_, _) => throw new InvalidOperationException("no")).Build();
        var engine = CreateEngine(flow, o => o.DefaultRetryPolicy = new RetryPolicy { MaxRetries = 1, Interval = TimeSpan.FromMinutes(2) });

        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);

        Assert.Equal(TimeSpan.FromMinutes(2), waiting.DueAt - Time.GetUtcNow());
    }

    [Fact]
    public async Task Retry_FlowPolicyChangedAfterStart_KeepsPolicyCapturedAtStart()
    {
        var original = AlwaysFailing("captured", new RetryPolicy { MaxRetries = 3, Interval = TimeSpan.FromSeconds(10) });
        var changed = AlwaysFailing("captured", RetryPolicy.None, version: 2);
        var engineA = CreateEngine(original);
        var run = await engineA.StartRunAsync(original, new TestState());
        await WaitForStatusAsync(engineA, run.Id, RunStatus.WaitingForRetry);
        await engineA.DisposeAsync();

        var engineB = CreateEngine(changed);
        await engineB.StartAsync();
        AdvanceAndWake(engineB, TimeSpan.FromSeconds(10));
        var waiting = await WaitForAsync(engineB, run.Id, r => r.RetriesUsed == 2, "waiting for retry 2");

        // Engine B's flow says no retries; the run keeps the 3 retries and the doubling interval it started with.
        Assert.Equal(RunStatus.WaitingForRetry, waiting.Status);
        Assert.Equal(2, waiting.Attempt);
        Assert.Equal(TimeSpan.FromSeconds(20), waiting.DueAt - Time.GetUtcNow());
        Assert.Equal(2, Counter["fail"]);
    }

    [Fact]
    public async Task Retry_EngineDefaultChangedAfterStart_KeepsPolicyCapturedAtStart()
    {
        var flow = Flow.Create<TestState>("captured-default").Stage("fail", (_, _) => throw new InvalidOperationException("no")).Build();
        var engineA = CreateEngine(flow, o => o.DefaultRetryPolicy = RetryPolicy.None);
        var run = await engineA.StartRunAsync(flow, new TestState { Value = 1 });
        await WaitForStatusAsync(engineA, run.Id, RunStatus.Failed);
        await engineA.DisposeAsync();
        var engineB = CreateEngine(flow, o => o.DefaultRetryPolicy = new RetryPolicy { MaxRetries = 10 });
        await engineB.StartAsync();

        await engineB.RerunAsync(run.Id);
        var failed = await WaitForStatusAsync(engineB, run.Id, RunStatus.Failed);

        Assert.Equal(2, failed.Attempt);
        Assert.Equal(0, failed.RetriesUsed);
    }

    [Fact]
    public async Task RerunAsync_RunWaitingForRetry_RunsAtOnceWithoutUsingARetry()
    {
        var flow = Flow.Create<TestState>("manual")
            .Stage("flaky", (_, _) => Counter.Hit("flaky") == 1 ? throw new InvalidOperationException("flaky") : Task.CompletedTask)
            .Retry(new RetryPolicy { MaxRetries = 3, Interval = TimeSpan.FromHours(1), MaxInterval = TimeSpan.FromHours(1) })
            .Build();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Equal(1, waiting.RetriesUsed);

        var rerun = await engine.RerunAsync(run.Id);
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Pending, rerun.Status);
        Assert.True(outcome.IsCompleted);
        var completed = await GetRunAsync(run.Id);
        Assert.Equal(1, completed.RetriesUsed);
        Assert.Equal(2, completed.Attempt);
        Assert.Equal(FakeStart, Time.GetUtcNow());
        var kinds = (await GetEventsAsync(run.Id)).Select(e => e.Kind);
        Assert.Equal(
            [RunEventKind.Created, RunEventKind.Started, RunEventKind.RetryScheduled, RunEventKind.RerunRequested, RunEventKind.Started, RunEventKind.Completed],
            kinds);
    }

    [Fact]
    public async Task RerunAsync_RerunRunFailsAgain_CountsRetriesFromWhereItWas()
    {
        var flow = AlwaysFailing("manual-again", new RetryPolicy { MaxRetries = 2, Interval = TimeSpan.FromHours(1), MaxInterval = TimeSpan.FromHours(1) });
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);

        await engine.RerunAsync(run.Id);
        var waiting = await WaitForAsync(engine, run.Id, r => r.Attempt == 2 && r.Status == RunStatus.WaitingForRetry, "waiting after the re-run");

        // The re-run did not count, its failure did: one retry is left.
        Assert.Equal(2, waiting.RetriesUsed);
        Assert.Contains("retry 2 of 2", (await GetEventsAsync(run.Id))[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RerunAsync_CompletedRun_Throws()
    {
        var flow = Flow.Create<TestState>("done").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow);
        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        await Assert.ThrowsAsync<InvalidRunStateException>(() => engine.RerunAsync(outcome.RunId));
        Assert.Equal(1, Counter["a"]);
    }

    private DateTimeOffset FakeStart => Time.Start;

    private Flow<TestState> AlwaysFailing(string name, RetryPolicy policy, int version = 1) =>
        Flow.Create<TestState>(name, version)
            .Stage("fail", (_, _) => throw new InvalidOperationException($"attempt {Counter.Hit("fail")} failed"))
            .Retry(policy)
            .Build();
}
