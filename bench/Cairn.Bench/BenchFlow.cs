using Cairn.Serialization;

namespace Cairn.Bench;

/// <summary>
/// The flow most workloads run: four stages around three recovery points (stage-1, point-1, stage-2, point-2, stage-3,
/// point-3, finish). A recovery point cannot be a flow's last step (the result is saved at completion), hence the fourth,
/// empty stage.
/// </summary>
internal static class BenchFlow
{
    public const int RecoveryPoints = 3;

    /// <summary>Creates the flow.</summary>
    /// <param name="name">The flow's name.</param>
    /// <param name="checkpointPayload">
    /// When set, stage-1 grows the payload to this many characters and the last stage empties it again, so that the
    /// checkpoints carry the large state while the input and the result stay small. When null, the input's payload is kept.
    /// </param>
    /// <param name="secondStage">Replaces stage-2 (the recovery workload makes it wait to be killed).</param>
    public static Flow<BenchState> Create(string name, int? checkpointPayload = null, Func<StageContext<BenchState>, CancellationToken, Task>? secondStage = null)
    {
        return Flow.Create<BenchState>(name)
            .Stage("stage-1", (context, _) =>
            {
                context.State.Counter++;
                if (checkpointPayload is { } length)
                {
                    context.State.Payload = new string('x', length);
                }

                return Task.CompletedTask;
            })
            .RecoveryPoint("point-1")
            .Stage("stage-2", secondStage ?? Step)
            .RecoveryPoint("point-2")
            .Stage("stage-3", Step)
            .RecoveryPoint("point-3")
            .Stage("finish", (context, _) =>
            {
                context.State.Counter++;
                if (checkpointPayload is not null)
                {
                    context.State.Payload = "";
                }

                return Task.CompletedTask;
            })
            .Build();
    }

    /// <summary>The payload length that makes the state, serialized by the engine's default serializer, <paramref name="bytes"/> long.</summary>
    public static int PayloadFor(int bytes)
    {
        var overhead = new JsonStateSerializer().Serialize(new BenchState { Counter = 1 }).Length;
        return Math.Max(0, bytes - overhead);
    }

    public static Task Step(StageContext<BenchState> context, CancellationToken cancellationToken)
    {
        context.State.Counter++;
        return Task.CompletedTask;
    }
}
