using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Cairn.Diagnostics;

/// <summary>The names of Cairn's activity source, meter, instruments and tags.</summary>
public static class Telemetry
{
    /// <summary>The name of the <see cref="ActivitySource"/> and the <see cref="Meter"/>: <c>Cairn</c>.</summary>
    public const string Name = "Cairn";

    /// <summary>The activity for one attempt of a run.</summary>
    public const string RunActivity = "cairn.run";

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
}
