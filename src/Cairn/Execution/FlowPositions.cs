namespace Cairn.Execution;

/// <summary>
/// Positions in a flow's tree of steps. A position is a path of integers: a step's index in its sequence, then for a
/// loop or branch the lane (the iteration, or the path taken) followed by the position inside that lane's body, and so
/// on: <c>3</c> is the fourth top-level step, <c>2/17/1</c> the second step of iteration 17 of the loop at index 2.
/// </summary>
internal static class FlowPositions
{
    /// <summary>Whether <paramref name="path"/> leads to a recovery point named <paramref name="name"/>.</summary>
    public static bool IsRecoveryPointAt(IReadOnlyList<FlowStep> steps, FlowPath path, string name) =>
        IsStepAt(steps, path, step => step is RecoveryPointStep && step.Name == name);

    /// <summary>Whether <paramref name="path"/> leads to a step that <paramref name="matches"/>.</summary>
    public static bool IsStepAt(IReadOnlyList<FlowStep> steps, FlowPath path, Func<FlowStep, bool> matches)
    {
        var sequence = steps;
        for (var i = 0; ; i += 2)
        {
            var index = path[i];
            if (index < 0 || index >= sequence.Count)
            {
                return false;
            }

            if (i == path.Count - 1)
            {
                return matches(sequence[index]);
            }

            if (sequence[index] is not CompositeStep composite || composite.BodyOfLane(path[i + 1]) is not { } body)
            {
                return false;
            }

            sequence = body;
        }
    }

    /// <summary>Where a recovery point is in the definition: its index at each level and the loops or branches around it.</summary>
    /// <param name="Indexes">The step index at each level, outermost first; one more than <paramref name="Composites"/>.</param>
    /// <param name="Composites">The loops and branches the point is in, outermost first, with the lane of each body.</param>
    public sealed record Location(IReadOnlyList<int> Indexes, IReadOnlyList<(CompositeStep Step, int Body)> Composites);

    /// <summary>Finds the recovery point of that name anywhere in the flow, or null.</summary>
    public static Location? FindByName(IReadOnlyList<FlowStep> steps, string name) =>
        Find(steps, step => step is RecoveryPointStep && step.Name == name);

    /// <summary>Finds the first step that <paramref name="matches"/>, outside parallel branches, or null.</summary>
    public static Location? Find(IReadOnlyList<FlowStep> steps, Func<FlowStep, bool> matches)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            if (matches(steps[i]))
            {
                return new Location([i], []);
            }

            switch (steps[i])
            {
                case CompositeStep composite when composite is not IEnvelopeStep:
                    for (var body = 0; body < composite.Bodies.Count; body++)
                    {
                        if (Find(composite.Bodies[body], matches) is { } inner)
                        {
                            return new Location([i, .. inner.Indexes], [(composite, body), .. inner.Composites]);
                        }
                    }

                    break;
            }
        }

        return null;
    }

    /// <summary>
    /// The position of <paramref name="location"/> with the lanes of the old position <paramref name="oldPath"/>: the
    /// iterations of loops are kept, a branch's path must be the same one. Null when the point is not inside the same
    /// number and kinds of loops and branches.
    /// </summary>
    public static FlowPath? Relocate(Location location, FlowPath oldPath)
    {
        if ((oldPath.Count - 1) / 2 != location.Composites.Count)
        {
            return null;
        }

        var path = new int[oldPath.Count];
        for (var level = 0; level < location.Composites.Count; level++)
        {
            var lane = oldPath[(2 * level) + 1];
            var (composite, body) = location.Composites[level];
            if (composite.BodyOf(lane) != body)
            {
                return null;
            }

            path[2 * level] = location.Indexes[level];
            path[(2 * level) + 1] = lane;
        }

        path[^1] = location.Indexes[^1];
        return FlowPath.Of(path);
    }
}
