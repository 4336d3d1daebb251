namespace Cairn.Testing;

/// <summary>
/// One place a crash-free run passed where a crash can be injected: before a stage, or after a committed checkpoint. Two
/// runs of the same flow and input pass the same boundaries, though parallel branches may pass them in another order:
/// a boundary is identified by everything but its <see cref="Number"/>.
/// </summary>
/// <param name="Number">Its place, from 1, in the order the run passed its boundaries.</param>
/// <param name="Kind">Before a stage or after a checkpoint.</param>
/// <param name="Flow">The flow of the run that passed it (a detached sub-flow's child has its own).</param>
/// <param name="Run">Which run: the flow's name for the run the kit started; a child run adds <c>/STEP[:ITERATIONS]</c> to its parent's.</param>
/// <param name="Name">The stage, the recovery point, <c>PARALLEL/BRANCH</c> for a finished branch, or the detached sub-flow.</param>
/// <param name="Iterations">The iterations of the loops (and fan-out items) around it, outermost first.</param>
/// <param name="Branch">Where it is nested, as in messages (<c> in branch 'a' of parallel 'p'</c>); empty in the flow's own sequence.</param>
/// <param name="Occurrence">How many times, from 1, the run passed this same boundary (a stage retried within a run passes it again).</param>
public sealed record CrashBoundary(
    int Number, CrashBoundaryKind Kind, string Flow, string Run, string Name, IReadOnlyList<int> Iterations, string Branch, int Occurrence)
{
    /// <summary>Whether <paramref name="other"/> is the same place: everything equal but the <see cref="Number"/>.</summary>
    public bool IsSamePlace(CrashBoundary other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Kind == other.Kind && Run == other.Run && Name == other.Name && Branch == other.Branch && Occurrence == other.Occurrence
            && Iterations.SequenceEqual(other.Iterations);
    }

    /// <summary>Reads as <c>#3 before stage 'charge' (iteration 1) in run 'purchase'</c>.</summary>
    public override string ToString()
    {
        var what = Kind == CrashBoundaryKind.BeforeStage ? $"before stage '{Name}'" : $"after the checkpoint of '{Name}'";
        var iterations = Iterations.Count == 0 ? "" : $" (iteration {string.Join('/', Iterations)})";
        var again = Occurrence == 1 ? "" : $" (time {Occurrence})";
        return $"#{Number} {what}{iterations}{Branch} in run '{Run}'{again}";
    }
}
