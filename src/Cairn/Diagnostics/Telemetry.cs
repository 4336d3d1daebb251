using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Cairn.Diagnostics;

/// <summary>The names of Cairn's activity source, meter, instruments and tags.</summary>
public static class Telemetry
{
    /// <summary>The name of the <see cref="ActivitySource"/> and the <see cref="Meter"/>: <c>Cairn</c>.</summary>
    public const string Name = "Cairn";

    /// <summary>
    /// The activity for one attempt of a run: the root of a trace of its own, linked (<see cref="ActivityLink"/>) to the
    /// trace that started the run, on whichever node and after however many crashes the attempt runs.
    /// </summary>
    public const string RunActivity = "cairn.run";

    /// <summary>
    /// The activity for starting a run (<c>StartRunAsync</c>, <c>RunAsync</c>, a detached sub-flow's child), in the caller's
    /// trace: the trace context the run stores and its attempts link to.
    /// </summary>
    public const string RunStartActivity = "cairn.run.start";

    /// <summary>The activity for one delivery of an outbox message to its publisher; its status Ok when the publisher accepted it.</summary>
    public const string OutboxDeliverActivity = "cairn.outbox.deliver";

    /// <summary>The activity for one stage execution; its display name is the stage's name, its status Ok when the stage succeeded.</summary>
    public const string StageActivity = "cairn.stage";

    /// <summary>The activity for one checkpoint write; its display name is the recovery point's name, its status Ok once committed.</summary>
    public const string CheckpointActivity = "cairn.checkpoint";

    /// <summary>Tag: the flow's name.</summary>
    public const string FlowTag = "cairn.flow";

    /// <summary>Tag: the run's ID.</summary>
    public const string RunIdTag = "cairn.run_id";

    /// <summary>Tag: the attempt number.</summary>
    public const string AttemptTag = "cairn.attempt";

    /// <summary>Tag: the stage's name.</summary>
    public const string StageTag = "cairn.stage";

    /// <summary>Tag: the recovery point's name.</summary>
    public const string RecoveryPointTag = "cairn.recovery_point";

    /// <summary>Tag: how the attempt ended (completed, retry, failed, interrupted, abandoned).</summary>
    public const string OutcomeTag = "cairn.outcome";

    /// <summary>Tag: an outbox message's ID.</summary>
    public const string OutboxMessageIdTag = "cairn.outbox.message_id";

    /// <summary>Tag: an outbox message's destination.</summary>
    public const string OutboxDestinationTag = "cairn.outbox.destination";

    /// <summary>Tag: the engine's node name, on the gauges each engine reports.</summary>
    public const string NodeTag = "cairn.node";

    /// <summary>Counter of runs created, by flow (unit <c>{run}</c>).</summary>
    public const string RunsStartedMetric = "cairn.run.started";

    /// <summary>Counter of runs that completed, by flow (unit <c>{run}</c>).</summary>
    public const string RunsCompletedMetric = "cairn.run.completed";

    /// <summary>Counter of runs that failed for good, by flow (unit <c>{run}</c>).</summary>
    public const string RunsFailedMetric = "cairn.run.failed";

    /// <summary>Counter of retries scheduled after a failed attempt, by flow (unit <c>{retry}</c>).</summary>
    public const string RetriesMetric = "cairn.run.retries";

    /// <summary>Counter of attempts that ended, by flow and outcome (unit <c>{attempt}</c>).</summary>
    public const string AttemptsMetric = "cairn.run.attempts";

    /// <summary>Gauge of the runs that are due and wait for a free slot, by node (unit <c>{run}</c>).</summary>
    public const string DueRunsMetric = "cairn.run.due";

    /// <summary>Histogram of the time to serialize and commit one checkpoint (unit <c>s</c>).</summary>
    public const string CheckpointDurationMetric = "cairn.checkpoint.duration";

    /// <summary>Histogram of the size of one serialized checkpoint state (unit <c>By</c>).</summary>
    public const string CheckpointSizeMetric = "cairn.checkpoint.size";

    /// <summary>Histogram of the outbox lag: time from a message's commit to its publisher's acceptance (unit <c>s</c>).</summary>
    public const string OutboxDeliveryLatencyMetric = "cairn.outbox.delivery.latency";

    /// <summary>Gauge of the outbox messages waiting for delivery, by node (unit <c>{message}</c>).</summary>
    public const string OutboxPendingMetric = "cairn.outbox.pending";

    internal static readonly ActivitySource Source = new(Name);

    internal static readonly Meter Meter = new(Name);

    /// <summary>Starts a stage or checkpoint activity of a run with its tags set at creation, so listeners see them when it starts.</summary>
    internal static Activity? StartRunActivity(string operation, string name, string nameTag, string flowName, RunId runId, int attempt)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityTagsCollection tags = new()
        {
            [nameTag] = name,
            [FlowTag] = flowName,
            [RunIdTag] = runId.ToString(),
            [AttemptTag] = attempt,
        };
        var activity = Source.StartActivity(operation, ActivityKind.Internal, parentContext: default, tags);
        activity?.DisplayName = name;
        return activity;
    }

    /// <summary>
    /// Starts the activity of an attempt as the root of a trace of its own, linked to the trace context the run stored
    /// when it was created (<see cref="RunSettings.TraceParent"/>). Clears <see cref="Activity.Current"/> for the rest of
    /// the calling async method, so that what the attempt does never joins whatever trace happened to flow to it.
    /// </summary>
    internal static Activity? StartAttemptActivity(string flowName, RunId runId, int attempt, string settings)
    {
        Activity.Current = null;
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityTagsCollection tags = new()
        {
            [FlowTag] = flowName,
            [RunIdTag] = runId.ToString(),
            [AttemptTag] = attempt,
        };
        ActivityLink[]? links = RunSettings.TraceContextOf(settings) is { } creator ? [new ActivityLink(creator)] : null;
        return Source.StartActivity(RunActivity, ActivityKind.Internal, parentContext: default, tags, links);
    }

    /// <summary>Starts the activity of a run's creation, a child of the caller's activity; null when nobody listens.</summary>
    internal static Activity? StartRunStartActivity(string flowName, RunId runId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityTagsCollection tags = new()
        {
            [FlowTag] = flowName,
            [RunIdTag] = runId.ToString(),
        };
        return Source.StartActivity(RunStartActivity, ActivityKind.Internal, parentContext: default, tags);
    }

    /// <summary>
    /// The W3C trace context of the current activity, to store with a new run: the run's start activity, or the caller's
    /// when nobody listens to Cairn; nulls without an activity.
    /// </summary>
    internal static (string? TraceParent, string? TraceState) CaptureTraceContext() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? (current.Id, current.TraceStateString) : (null, null);

    /// <summary>Starts the activity of one outbox delivery, the root of a trace of its own (see <see cref="StartAttemptActivity"/>).</summary>
    internal static Activity? StartOutboxActivity(OutboxMessage message)
    {
        Activity.Current = null;
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityTagsCollection tags = new()
        {
            [OutboxMessageIdTag] = message.Id.ToString(),
            [OutboxDestinationTag] = message.Destination,
            [RunIdTag] = message.RunId.ToString(),
        };
        var activity = Source.StartActivity(OutboxDeliverActivity, ActivityKind.Producer, parentContext: default, tags);
        activity?.DisplayName = $"{OutboxDeliverActivity} {message.Destination}";
        return activity;
    }
}
