using System.Diagnostics;
using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Cairn.OpenTelemetry.Tests;

/// <summary>
/// <c>AddCairnInstrumentation()</c> on OpenTelemetry's builders, exported in memory, for real runs on a SQLite store: a
/// resumed attempt on another engine still links to the trace that started the run.
/// </summary>
public sealed class CairnInstrumentationTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly ActivitySource Caller = new("Cairn.OpenTelemetry.Tests.Caller");
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-otel-").FullName;
    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];

    private string StorePath => Path.Combine(_dir, "cairn.db");

    [Fact]
    public async Task AddCairnInstrumentation_RunResumedOnAnotherEngine_ExportsSpansLinkedToTheTraceThatStartedIt()
    {
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Caller.Name)
            .AddCairnInstrumentation()
            .AddInMemoryExporter(_spans)
            .Build();
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstEngine = true;
        var flow = Flow.Create<Order>("order")
            .Stage("reserve", (c, _) =>
            {
                c.State.Reserved = true;
                return Task.CompletedTask;
            })
            .RecoveryPoint("reserved")
            .Stage("charge", async (_, ct) =>
            {
                if (Volatile.Read(ref firstEngine))
                {
                    stalled.TrySetResult();
                    await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, ct);
                }
            })
            .Build();

        RunId runId;
        ActivityContext request;
        await using (var first = Engine(flow, "node-a"))
        {
            using (var activity = Caller.StartActivity("POST /orders")!)
            {
                request = activity.Context;
                runId = (await first.StartRunAsync(flow, new Order())).Id;
            }

            await stalled.Task.WaitAsync(Timeout);
            // The node goes away mid-stage: its run stays resumable from "reserved".
            await first.StopAsync();
        }

        Volatile.Write(ref firstEngine, false);
        await using (var second = Engine(flow, "node-b"))
        {
            await second.StartAsync();
            var outcome = await second.WaitForRunAsync(flow, runId).WaitAsync(Timeout);
            Assert.True(outcome.IsCompleted, outcome.Error);
        }

        tracing.ForceFlush();
        var id = runId.ToString();
        var start = Assert.Single(_spans, s => s.OperationName == Telemetry.RunStartActivity);
        Assert.Equal((request.TraceId, request.SpanId), (start.TraceId, start.ParentSpanId));
        Assert.Equal(id, start.GetTagItem(Telemetry.RunIdTag));

        var attempts = _spans.Where(s => s.OperationName == Telemetry.RunActivity).OrderBy(s => s.GetTagItem(Telemetry.AttemptTag)).ToList();
        Assert.Equal([1, 2], attempts.Select(a => a.GetTagItem(Telemetry.AttemptTag)));
        Assert.Equal(["interrupted", "completed"], attempts.Select(a => a.GetTagItem(Telemetry.OutcomeTag)));
        Assert.All(attempts, a =>
        {
            Assert.Equal(default, a.ParentSpanId);
            var link = Assert.Single(a.Links);
            Assert.Equal((start.TraceId, start.SpanId), (link.Context.TraceId, link.Context.SpanId));
            Assert.Equal("order", a.GetTagItem(Telemetry.FlowTag));
            Assert.Equal(id, a.GetTagItem(Telemetry.RunIdTag));
        });

        // The resumed attempt runs only what follows the recovery point, in its own trace.
        var resumedStages = _spans.Where(s => s.OperationName == Telemetry.StageActivity && s.TraceId == attempts[1].TraceId).Select(s => s.DisplayName);
        Assert.Equal(["charge"], resumedStages);
        var checkpoint = Assert.Single(_spans, s => s.OperationName == Telemetry.CheckpointActivity);
        Assert.Equal((attempts[0].TraceId, attempts[0].SpanId), (checkpoint.TraceId, checkpoint.ParentSpanId));
        Assert.Equal("reserved", checkpoint.GetTagItem(Telemetry.RecoveryPointTag));
    }

    [Fact]
    public async Task AddCairnInstrumentation_Metrics_ExportsRunCountersAndCheckpointHistogramsWithUnits()
    {
        using var metering = Sdk.CreateMeterProviderBuilder()
            .AddCairnInstrumentation()
            .AddInMemoryExporter(_metrics)
            .Build();
        var flow = Flow.Create<Order>("metered")
            .Stage("reserve", (c, _) =>
            {
                c.State.Reserved = true;
                return Task.CompletedTask;
            })
            .RecoveryPoint("reserved")
            .Stage("charge", (_, _) => Task.CompletedTask)
            .Build();

        await using (var engine = Engine(flow, "node-m"))
        {
            var outcome = await engine.RunAsync(flow, new Order()).WaitAsync(Timeout);
            Assert.True(outcome.IsCompleted, outcome.Error);
        }

        metering.ForceFlush();
        Assert.Equal(1, Sum(Telemetry.RunsStartedMetric, "metered"));
        Assert.Equal(1, Sum(Telemetry.RunsCompletedMetric, "metered"));
        Assert.Equal(0, Sum(Telemetry.RunsFailedMetric, "metered"));
        var duration = Assert.Single(_metrics, m => m.Name == Telemetry.CheckpointDurationMetric);
        Assert.Equal("s", duration.Unit);
        Assert.Equal(1, HistogramCount(duration));
        Assert.Equal("By", Assert.Single(_metrics, m => m.Name == Telemetry.CheckpointSizeMetric).Unit);
    }

    private CairnEngine Engine(Flow<Order> flow, string node) => CairnEngine.CreateBuilder()
        .UseSqlite(StorePath)
        .Configure(o =>
        {
            o.NodeName = node;
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(100);
        })
        .AddFlow(flow)
        .Build();

    private long Sum(string name, string flow)
    {
        long sum = 0;
        foreach (var metric in _metrics.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                foreach (var tag in point.Tags)
                {
                    if (tag.Key == Telemetry.FlowTag && Equals(tag.Value, flow))
                    {
                        sum += point.GetSumLong();
                    }
                }
            }
        }

        return sum;
    }

    private static long HistogramCount(Metric metric)
    {
        long count = 0;
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            count += point.GetHistogramCount();
        }

        return count;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    public sealed class Order
    {
        public bool Reserved { get; set; }
    }
}
