namespace Cairn.CrashTest.Chaos;

/// <summary>
/// Where a flow's stages and recovery points sit: a lane per sequence, nested like the flow (<c>""</c> the top level,
/// <c>each</c> a loop's body, <c>each/sides/left</c> a parallel branch in it). A checkpoint committed in a lane covers
/// the stages that ran before it in the same attempt in that lane and in the lanes around it (a point in a branch
/// saves the whole stack), and those of the lanes inside it (they had finished: the flow is past them); not those of a
/// sibling branch, which may still be running.
/// </summary>
/// <param name="lanes">The lane of each step not at the top level; a branch's finishing checkpoint is labelled <c>PARALLEL/BRANCH</c>.</param>
/// <param name="unknownIsTopLevel">Whether a name not listed is at the top level; otherwise it is not known, and covers nothing.</param>
internal sealed class ChaosLanes(IReadOnlyDictionary<string, string> lanes, bool unknownIsTopLevel)
{
    public string? LaneOf(string name) => lanes.TryGetValue(name, out var lane) ? lane : unknownIsTopLevel ? "" : null;

    /// <summary>Whether a checkpoint in <paramref name="pointLane"/> covers a stage that ran before it in <paramref name="stageLane"/>.</summary>
    public static bool Covers(string pointLane, string stageLane) => IsWithin(pointLane, stageLane) || IsWithin(stageLane, pointLane);

    private static bool IsWithin(string inner, string outer) =>
        outer.Length == 0 || inner == outer || inner.StartsWith(outer + "/", StringComparison.Ordinal);
}
