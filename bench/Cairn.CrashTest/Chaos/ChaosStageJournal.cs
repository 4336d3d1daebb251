using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// What the chaos flows' stages write themselves, first thing, into their node's journal: <c>S run place attempt</c>,
/// where the place is the stage and the iterations of the loops around it (<c>pick:2</c>), as in its idempotency key.
/// </summary>
internal sealed class ChaosStageJournal(CrashJournal? journal)
{
    public void Started<TState>(StageContext<TState> context) =>
        journal?.StageStarted(context.RunId.ToString(), Place(context.StageName, context.Iterations), context.Recovery.Attempt);

    public static string Place(string stage, IReadOnlyList<int> iterations) =>
        iterations.Count == 0 ? stage : $"{stage}:{string.Join(':', iterations)}";

    /// <summary>The stage of a place.</summary>
    public static string StageOf(string place) => place.Split(':')[0];
}
