using System.Diagnostics.Metrics;

namespace Cairn.Diagnostics;

/// <summary>
/// The engine's instruments, on the meter <see cref="Telemetry.Name"/>: the one an <see cref="IMeterFactory"/> creates
/// when the container has one (so that each container's measurements stay its own), else a static one.
/// </summary>
internal sealed class CairnMetrics
{
    public static readonly CairnMetrics Shared = new(Telemetry.Meter);

    public CairnMetrics(Meter meter)
    {
        CheckpointDuration = meter.CreateHistogram<double>("cairn.checkpoint.duration", "s", "Time to serialize and commit one checkpoint.");
        CheckpointSize = meter.CreateHistogram<long>("cairn.checkpoint.size", "By", "Size of one serialized checkpoint state.");
        RunsFinished = meter.CreateCounter<long>("cairn.run.attempts", "{attempt}", "Attempts of runs that ended, by outcome.");
        OutboxDeliveryLatency = meter.CreateHistogram<double>("cairn.outbox.delivery.latency", "s", "Time from an outbox message's commit to its publisher's acceptance.");
    }

    public Histogram<double> OutboxDeliveryLatency { get; }

    public Histogram<double> CheckpointDuration { get; }

    public Histogram<long> CheckpointSize { get; }

    public Counter<long> RunsFinished { get; }

    public static CairnMetrics Create(IMeterFactory meterFactory) => new(meterFactory.Create(Telemetry.Name));
}
