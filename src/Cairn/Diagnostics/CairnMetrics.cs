using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Cairn.Diagnostics;

/// <summary>
/// The engine's instruments, on the meter <see cref="Telemetry.Name"/>: the one an <see cref="IMeterFactory"/> creates
/// when the container has one (so that each container's measurements stay its own), else a static one.
/// </summary>
internal sealed class CairnMetrics
{
    public static readonly CairnMetrics Shared = new(Telemetry.Meter);

    /// <summary>The started engines whose gauges this meter reports: several may share the static meter.</summary>
    private readonly ConcurrentDictionary<CairnEngine, bool> _engines = new();

    public CairnMetrics(Meter meter)
    {
        CheckpointDuration = meter.CreateHistogram<double>(Telemetry.CheckpointDurationMetric, "s", "Time to serialize and commit one checkpoint.");
        CheckpointSize = meter.CreateHistogram<long>(Telemetry.CheckpointSizeMetric, "By", "Size of one serialized checkpoint state.");
        RunsFinished = meter.CreateCounter<long>(Telemetry.AttemptsMetric, "{attempt}", "Attempts of runs that ended, by outcome.");
        OutboxDeliveryLatency = meter.CreateHistogram<double>(Telemetry.OutboxDeliveryLatencyMetric, "s", "Time from an outbox message's commit to its publisher's acceptance.");
        RunsStarted = meter.CreateCounter<long>(Telemetry.RunsStartedMetric, "{run}", "Runs created, by flow.");
        RunsCompleted = meter.CreateCounter<long>(Telemetry.RunsCompletedMetric, "{run}", "Runs that completed, by flow.");
        RunsFailed = meter.CreateCounter<long>(Telemetry.RunsFailedMetric, "{run}", "Runs that failed for good, by flow.");
        Retries = meter.CreateCounter<long>(Telemetry.RetriesMetric, "{retry}", "Retries scheduled after a failed attempt, by flow.");
        DueRuns = meter.CreateObservableGauge(
            Telemetry.DueRunsMetric, () => Observe(e => e.DueRunsSeen), "{run}", "Runs due and waiting for a free slot, by node; counted every heartbeat while someone listens.");
        OutboxPending = meter.CreateObservableGauge(
            Telemetry.OutboxPendingMetric, () => Observe(e => e.OutboxPendingSeen), "{message}", "Outbox messages waiting for delivery, by node; counted every heartbeat while someone listens.");
    }

    public Histogram<double> OutboxDeliveryLatency { get; }

    public Histogram<double> CheckpointDuration { get; }

    public Histogram<long> CheckpointSize { get; }

    public Counter<long> RunsFinished { get; }

    public Counter<long> RunsStarted { get; }

    public Counter<long> RunsCompleted { get; }

    public Counter<long> RunsFailed { get; }

    public Counter<long> Retries { get; }

    public ObservableGauge<long> DueRuns { get; }

    public ObservableGauge<long> OutboxPending { get; }

    public static CairnMetrics Create(IMeterFactory meterFactory) => new(meterFactory.Create(Telemetry.Name));

    /// <summary>Counts a run just created.</summary>
    public void RunStarted(string flowName)
    {
        if (RunsStarted.Enabled)
        {
            RunsStarted.Add(1, new KeyValuePair<string, object?>(Telemetry.FlowTag, flowName));
        }
    }

    /// <summary>Counts an attempt that ended, and the run's completion, failure or retry it ended with.</summary>
    public void AttemptEnded(string flowName, string outcome)
    {
        var flow = new KeyValuePair<string, object?>(Telemetry.FlowTag, flowName);
        RunsFinished.Add(1, flow, new KeyValuePair<string, object?>(Telemetry.OutcomeTag, outcome));
        var counter = outcome switch
        {
            "completed" => RunsCompleted,
            "failed" => RunsFailed,
            "retry" => Retries,
            _ => null,
        };
        counter?.Add(1, flow);
    }

    /// <summary>Whether someone listens to a gauge: only then do engines count what it reports.</summary>
    public bool GaugesObserved => DueRuns.Enabled || OutboxPending.Enabled;

    public void Report(CairnEngine engine) => _engines[engine] = true;

    public void StopReporting(CairnEngine engine) => _engines.TryRemove(engine, out _);

    private IEnumerable<Measurement<long>> Observe(Func<CairnEngine, long> read)
    {
        foreach (var engine in _engines.Keys)
        {
            // Negative: not counted yet.
            if (read(engine) is var value and >= 0)
            {
                yield return new Measurement<long>(value, new KeyValuePair<string, object?>(Telemetry.NodeTag, engine.NodeName));
            }
        }
    }
}
