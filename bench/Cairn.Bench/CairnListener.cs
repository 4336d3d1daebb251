using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Cairn.Diagnostics;

namespace Cairn.Bench;

/// <summary>
/// Listens to the engine's telemetry: counts checkpoints (the <c>cairn.checkpoint.duration</c> histogram), sums their
/// serialized sizes (<c>cairn.checkpoint.size</c>), counts completed runs (<c>cairn.run.attempts</c>), keeps outbox delivery latencies, and, while
/// <see cref="Recording"/>, keeps the duration of every <c>cairn.checkpoint</c> activity by recovery point.
/// </summary>
internal sealed class CairnListener : IDisposable
{
    private readonly MeterListener _meters = new();
    private readonly ActivityListener? _activities;
    private readonly ConcurrentQueue<CheckpointSample> _samples = new();
    private readonly ConcurrentQueue<double> _outboxLatencies = new();
    private long _checkpoints;
    private long _checkpointBytes;
    private long _completedRuns;

    /// <param name="recordDurations">Whether to create <c>cairn.checkpoint</c> activities and keep their durations.</param>
    public CairnListener(bool recordDurations)
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "cairn.checkpoint.duration")
            {
                Interlocked.Increment(ref _checkpoints);
            }
            else if (instrument.Name == "cairn.outbox.delivery.latency")
            {
                _outboxLatencies.Enqueue(value * 1_000_000);
            }
        });
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "cairn.checkpoint.size")
            {
                Interlocked.Add(ref _checkpointBytes, value);
            }
            else if (instrument.Name == "cairn.run.attempts" && IsCompleted(tags))
            {
                var completed = Interlocked.Increment(ref _completedRuns);
                RunCompleted?.Invoke(completed);
            }
        });
        _meters.Start();

        if (recordDurations)
        {
            _activities = new ActivityListener
            {
                ShouldListenTo = source => source.Name == Telemetry.Name,
                // Only checkpoints: run and stage activities would add work the measurement does not need.
                Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                    options.Name == Telemetry.CheckpointActivity ? ActivitySamplingResult.AllData : ActivitySamplingResult.None,
                ActivityStopped = activity =>
                {
                    if (Recording && activity.OperationName == Telemetry.CheckpointActivity && activity.Status == ActivityStatusCode.Ok)
                    {
                        _samples.Enqueue(new CheckpointSample(activity.DisplayName, activity.Duration.TotalMicroseconds));
                    }
                },
            };
            ActivitySource.AddActivityListener(_activities);
        }
    }

    /// <summary>Called with the new count each time a run completes, on the engine's thread.</summary>
    public Action<long>? RunCompleted { get; set; }

    /// <summary>Whether checkpoint durations are being kept.</summary>
    public bool Recording { get; set; }

    /// <summary>Checkpoints committed since the listener started.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>The serialized bytes of those checkpoints' states.</summary>
    public long CheckpointBytes => Interlocked.Read(ref _checkpointBytes);

    /// <summary>Runs completed since the listener started.</summary>
    public long CompletedRuns => Interlocked.Read(ref _completedRuns);

    /// <summary>Returns and forgets the checkpoint durations kept so far.</summary>
    public List<CheckpointSample> TakeSamples()
    {
        var samples = new List<CheckpointSample>(_samples.Count);
        while (_samples.TryDequeue(out var sample))
        {
            samples.Add(sample);
        }

        return samples;
    }

    /// <summary>
    /// Returns and forgets the outbox delivery latencies (<c>cairn.outbox.delivery.latency</c>: from the message's commit
    /// to its publisher's acceptance) seen so far, in microseconds.
    /// </summary>
    public List<double> TakeOutboxLatencies()
    {
        var latencies = new List<double>(_outboxLatencies.Count);
        while (_outboxLatencies.TryDequeue(out var latency))
        {
            latencies.Add(latency);
        }

        return latencies;
    }

    public void Dispose()
    {
        _meters.Dispose();
        _activities?.Dispose();
    }

    private static bool IsCompleted(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == Telemetry.OutcomeTag)
            {
                return tag.Value as string == "completed";
            }
        }

        return false;
    }
}
