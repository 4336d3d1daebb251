using System.Collections.Concurrent;
using System.Diagnostics;
using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Diagnostics;

/// <summary>The activities of runs: their names, parents, links and tags, and the trace context a run stores.</summary>
public sealed class TelemetryTests : EngineTest, IDisposable
{
    private static readonly ActivitySource Caller = new("Cairn.Tests.Caller");
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TelemetryTests(ITestOutputHelper output)
        : base(output)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is Telemetry.Name or "Cairn.Tests.Caller",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task RunAsync_InACallersActivity_StartIsItsChildAndTheAttemptStartsATraceLinkedToIt()
    {
        var flow = Flow.Create<TestState>("traced")
            .Stage("one", (_, _) => Task.CompletedTask)
            .RecoveryPoint("after-one")
            .Stage("two", (_, _) => Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow);

        RunOutcome<TestState> outcome;
        ActivityContext caller;
        using (var request = Caller.StartActivity("request")!)
        {
            caller = request.Context;
            outcome = await Within(engine.RunAsync(flow, new TestState()));
        }

        var runId = outcome.RunId.ToString();
        var start = await SingleAsync(Telemetry.RunStartActivity, runId);
        Assert.Equal(caller.TraceId, start.TraceId);
        Assert.Equal(caller.SpanId, start.ParentSpanId);
        Assert.Equal("traced", start.GetTagItem(Telemetry.FlowTag));

        var attempt = await SingleAsync(Telemetry.RunActivity, runId);
        Assert.Equal(default, attempt.ParentSpanId);
        Assert.NotEqual(caller.TraceId, attempt.TraceId);
        var link = Assert.Single(attempt.Links);
        Assert.Equal((start.TraceId, start.SpanId), (link.Context.TraceId, link.Context.SpanId));
        Assert.Equal(1, attempt.GetTagItem(Telemetry.AttemptTag));
        Assert.Equal("completed", attempt.GetTagItem(Telemetry.OutcomeTag));

        var stages = _stopped.Where(a => a.OperationName == Telemetry.StageActivity && Equals(a.GetTagItem(Telemetry.RunIdTag), runId)).ToList();
        Assert.Equal(["one", "two"], stages.Select(s => s.DisplayName).Order());
        Assert.All(stages, s => Assert.Equal(attempt.SpanId, s.ParentSpanId));
        var checkpoint = await SingleAsync(Telemetry.CheckpointActivity, runId);
        Assert.Equal(attempt.SpanId, checkpoint.ParentSpanId);
        Assert.Equal("after-one", checkpoint.GetTagItem(Telemetry.RecoveryPointTag));
    }

    [Fact]
    public async Task Retry_SecondAttempt_LinksToTheTraceThatStartedTheRunInATraceOfItsOwn()
    {
        var failures = 0;
        var flow = Flow.Create<TestState>("flaky")
            .Retry(p => p with { Interval = TimeSpan.FromMinutes(1) })
            .Stage("call", (_, _) => Interlocked.Increment(ref failures) == 1 ? throw new TimeoutException("no answer") : Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow);

        RunInfo run;
        ActivityTraceId callerTrace;
        using (var request = Caller.StartActivity("request")!)
        {
            callerTrace = request.TraceId;
            run = await engine.StartRunAsync(flow, new TestState());
        }

        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromMinutes(1));
        await WaitForStatusAsync(engine, run.Id, RunStatus.Completed);

        var start = await SingleAsync(Telemetry.RunStartActivity, run.Id.ToString());
        await WaitUntilAsync(() => Attempts(run.Id.ToString()).Count == 2);
        var attempts = Attempts(run.Id.ToString()).OrderBy(a => a.GetTagItem(Telemetry.AttemptTag)).ToList();
        Assert.Equal(["retry", "completed"], attempts.Select(a => a.GetTagItem(Telemetry.OutcomeTag)));
        Assert.All(attempts, a => Assert.Equal((callerTrace, start.SpanId), (a.Links.Single().Context.TraceId, a.Links.Single().Context.SpanId)));
        Assert.NotEqual(attempts[0].TraceId, attempts[1].TraceId);
    }

    [Fact]
    public async Task DetachedSubFlow_ChildRun_LinksToItsParentsTrace()
    {
        var child = Flow.Create<TestState>("child").Stage("work", (_, _) => Task.CompletedTask).Build();
        var parent = Flow.Create<TestState>("parent")
            .Stage("prepare", (_, _) => Task.CompletedTask)
            .RecoveryPoint("prepared")
            .DetachedSubFlow("spawn", child, s => new TestState())
            .Build();
        var engine = CreateEngine(parent, build: b => b.AddFlow(child));

        var outcome = await Within(engine.RunAsync(parent, new TestState()));

        Assert.True(outcome.IsCompleted, outcome.Error);
        var childRun = await Store.FindRunAsync("child", $"{outcome.RunId}:spawn", Ct);
        var childStart = await SingleAsync(Telemetry.RunStartActivity, childRun!.Id.ToString());

        // The parent's first attempt (it started the child, then waited) may stop after its second one has completed.
        await WaitUntilAsync(() => Attempts(outcome.RunId.ToString()).Count == 2);
        var parentTraces = Attempts(outcome.RunId.ToString()).Select(a => a.TraceId).ToList();
        Assert.Contains(childStart.TraceId, parentTraces);
        var childAttempt = await SingleAsync(Telemetry.RunActivity, childRun.Id.ToString());
        Assert.Equal(childStart.SpanId, childAttempt.Links.Single().Context.SpanId);
        Assert.Contains(childAttempt.Links.Single().Context.TraceId, parentTraces);
    }

    [Fact]
    public async Task OutboxDelivery_EmitsADeliverActivityWithTheMessageDestinationAndRun()
    {
        var flow = Flow.Create<TestState>("orders")
            .Stage("save", (c, _) =>
            {
                c.Outbox.Add("NewOrder", new { Order = 42 });
                return Task.CompletedTask;
            })
            .RecoveryPoint("saved")
            .Stage("finish", (_, _) => Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow, build: b => b.AddOutboxPublisher("NewOrder", (_, _) => Task.CompletedTask));

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        var id = StoreRules.OutboxMessageId(outcome.RunId, 1, 0).ToString();
        await WaitUntilAsync(() => _stopped.Any(a => a.OperationName == Telemetry.OutboxDeliverActivity && Equals(a.GetTagItem(Telemetry.OutboxMessageIdTag), id)));
        var delivery = _stopped.Single(a => a.OperationName == Telemetry.OutboxDeliverActivity && Equals(a.GetTagItem(Telemetry.OutboxMessageIdTag), id));
        Assert.Equal("NewOrder", delivery.GetTagItem(Telemetry.OutboxDestinationTag));
        Assert.Equal(outcome.RunId.ToString(), delivery.GetTagItem(Telemetry.RunIdTag));
        Assert.Equal(ActivityKind.Producer, delivery.Kind);
        Assert.Equal(ActivityStatusCode.Ok, delivery.Status);
        Assert.Equal(default, delivery.ParentSpanId);
    }

    [Fact]
    public async Task StartRunAsync_OutsideAnyActivity_StoresNoTraceContext()
    {
        var flow = Flow.Create<TestState>("untraced").Stage("one", (_, _) => Task.CompletedTask).Build();
        var engine = CreateEngine(flow);
        Activity.Current = null;
        _listener.Dispose();

        var run = await engine.StartRunAsync(flow, new TestState());

        var settings = (await GetRunAsync(run.Id)).Settings;
        Assert.DoesNotContain("traceParent", settings, StringComparison.Ordinal);
        Assert.Null(RunSettings.TraceContextOf(settings));
    }

    [Fact]
    public async Task StartRunAsync_NobodyListensToCairn_StoresTheCallersTraceContext()
    {
        var flow = Flow.Create<TestState>("traced").Stage("one", (_, _) => Task.CompletedTask).Build();
        var engine = CreateEngine(flow);
        _listener.Dispose();
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        request.TraceStateString = "vendor=1";

        var run = await engine.StartRunAsync(flow, new TestState());

        var stored = RunSettings.TraceContextOf((await GetRunAsync(run.Id)).Settings);
        Assert.Equal((request.TraceId, request.SpanId, "vendor=1"), (stored!.Value.TraceId, stored.Value.SpanId, stored.Value.TraceState));
    }

    private List<Activity> Attempts(string runId) =>
        [.. _stopped.Where(a => a.OperationName == Telemetry.RunActivity && Equals(a.GetTagItem(Telemetry.RunIdTag), runId))];

    /// <summary>The one stopped activity of an operation for a run, once it stopped (attempts stop after their waiters hear the outcome).</summary>
    private async Task<Activity> SingleAsync(string operation, string runId)
    {
        await WaitUntilAsync(() => _stopped.Any(a => a.OperationName == operation && Equals(a.GetTagItem(Telemetry.RunIdTag), runId)));
        return Assert.Single(_stopped, a => a.OperationName == operation && Equals(a.GetTagItem(Telemetry.RunIdTag), runId));
    }

    public void Dispose() => _listener.Dispose();
}
