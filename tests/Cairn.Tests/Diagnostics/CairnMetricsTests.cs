using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit.Abstractions;

namespace Cairn.Tests.Diagnostics;

/// <summary>The engine's counters and gauges, each on a meter of the test's own factory.</summary>
public sealed class CairnMetricsTests(ITestOutputHelper output) : EngineTest(output), IDisposable
{
    private readonly TestMeterFactory _meters = new();

    [Fact]
    public async Task RunAsync_CompletedRun_CountsOneStartedAndOneCompletedForItsFlow()
    {
        var flow = Flow.Create<TestState>("counted").Stage("one", (_, _) => Task.CompletedTask).Build();
        var engine = CreateEngine(flow, build: b => b.UseMeterFactory(_meters));
        using var started = new MetricCollector<long>(_meters, Telemetry.Name, Telemetry.RunsStartedMetric);
        using var completed = new MetricCollector<long>(_meters, Telemetry.Name, Telemetry.RunsCompletedMetric);
        using var failed = new MetricCollector<long>(_meters, Telemetry.Name, Telemetry.RunsFailedMetric);

        await Within(engine.RunAsync(flow, new TestState()));
        await Within(engine.RunAsync(flow, new TestState(), recoveryId: "same"));
        await Within(engine.RunAsync(flow, new TestState(), recoveryId: "same"));

        await completed.WaitForMeasurementsAsync(minCount: 2, Timeout);
        Assert.Equal([1, 1], started.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(started.GetMeasurementSnapshot(), m => Assert.Equal("counted", m.Tags[Telemetry.FlowTag]));
        Assert.Equal(2, completed.GetMeasurementSnapshot().Count);
        Assert.Equal("counted", completed.LastMeasurement!.Tags[Telemetry.FlowTag]);
        Assert.Equal("{run}", started.Instrument!.Unit);
        Assert.Empty(failed.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task CheckpointDuration_SaveWhileTheEnginesClockMoves_IsMeasuredOnThatClock()
    {
        var flow = Flow.Create<TestState>("timed").Stage("one", (_, _) => Task.CompletedTask).RecoveryPoint("saved").Stage("two", (_, _) => Task.CompletedTask).Build();
        var store = new WakeUpRunStore(Store) { BeforeSave = () => Time.Advance(TimeSpan.FromMilliseconds(250)) };
        await using var engine = CairnEngine.CreateBuilder().UseStore(store).UseTimeProvider(Time).UseMeterFactory(_meters).AddFlow(flow).Build();
        using var durations = new MetricCollector<double>(_meters, Telemetry.Name, Telemetry.CheckpointDurationMetric);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(0.25, Assert.Single(durations.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public async Task FailingRun_CountsEachRetryThenOneFailed()
    {
        var flow = Flow.Create<TestState>("broken")
            .Retry(p => p with { MaxRetries = 2, Interval = TimeSpan.FromMinutes(1), BackoffFactor = 1 })
            .Stage("call", (_, _) => throw new TimeoutException("no answer"))
            .Build();
        var engine = CreateEngine(flow, build: b => b.UseMeterFactory(_meters));
        using var retries = new MetricCollector<long>(_meters, Telemetry.Name, Telemetry.RetriesMetric);
        using var failed = new MetricCollector<long>(_meters, Telemetry.Name, Telemetry.RunsFailedMetric);
        using var completed = new MetricCollector<long>(_meters, Telemetry.Name, Telemetry.RunsCompletedMetric);

        var run = await engine.StartRunAsync(flow, new TestState());
        await AdvanceUntilAsync(TimeSpan.FromSeconds(30), () => failed.GetMeasurementSnapshot().Count > 0, "the run's failure");

        Assert.Equal(RunStatus.Failed, (await GetRunAsync(run.Id)).Status);
        Assert.Equal(2, retries.GetMeasurementSnapshot().Count);
        Assert.Equal("broken", Assert.Single(failed.GetMeasurementSnapshot()).Tags[Telemetry.FlowTag]);
        Assert.Empty(completed.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task DueRunsGauge_RunsWaitingForASlot_ReportsHowManyForTheNode()
    {
        var gate = NewGate();
        var flow = Flow.Create<TestState>("busy").Stage("wait", (_, ct) => gate.Task.WaitAsync(ct)).Build();
        var engine = CreateEngine(flow, o => o.MaxConcurrentRuns = 1, b => b.UseMeterFactory(_meters));
        using var due = new MetricCollector<long>(_meters, Telemetry.Name, Telemetry.DueRunsMetric);

        var first = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, first.Id, RunStatus.Running);
        await engine.StartRunAsync(flow, new TestState());
        await engine.StartRunAsync(flow, new TestState());
        await engine.RefreshGaugesAsync(Ct);
        due.RecordObservableInstruments();

        var measurement = due.LastMeasurement!;
        Assert.Equal(2, measurement.Value);
        Assert.Equal(engine.NodeName, measurement.Tags[Telemetry.NodeTag]);
        Assert.Equal("{run}", due.Instrument!.Unit);
    }

    [Fact]
    public async Task RefreshGaugesAsync_NobodyListens_CountsNothing()
    {
        var flow = Flow.Create<TestState>("quiet").Stage("one", (_, _) => Task.CompletedTask).Build();
        var engine = CreateEngine(flow, o => o.MaxConcurrentRuns = 1, b => b.UseMeterFactory(_meters));
        await engine.StartAsync();

        await engine.RefreshGaugesAsync(Ct);

        Assert.Equal(-1, engine.DueRunsSeen);
        Assert.Equal(-1, engine.OutboxPendingSeen);
    }

    [Fact]
    public async Task OutboxPendingGauge_MessagesWithoutADispatcher_ReportsThem()
    {
        var flow = Flow.Create<TestState>("orders")
            .Stage("save", (c, _) =>
            {
                c.Outbox.Add("NewOrder", new { Order = 1 });
                c.Outbox.Add("NewOrder", new { Order = 2 });
                return Task.CompletedTask;
            })
            .RecoveryPoint("saved")
            .Stage("finish", (_, _) => Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow, build: b => b.UseMeterFactory(_meters));
        using var pending = new MetricCollector<long>(_meters, Telemetry.Name, Telemetry.OutboxPendingMetric);

        await Within(engine.RunAsync(flow, new TestState()));
        await engine.RefreshGaugesAsync(Ct);
        pending.RecordObservableInstruments();

        Assert.Equal(2, pending.LastMeasurement!.Value);
        Assert.Equal("{message}", pending.Instrument!.Unit);
    }

    public void Dispose() => _meters.Dispose();
}
