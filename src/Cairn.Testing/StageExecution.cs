namespace Cairn.Testing;

/// <summary>One execution of a stage seen by the crash kit: a stage that started (it may have failed or been cut short by the crash after it).</summary>
/// <param name="Flow">The flow of the run.</param>
/// <param name="RunId">The run.</param>
/// <param name="Run">Which run, as in <see cref="CrashBoundary.Run"/>: the flow's name, or a child's <c>PARENT/STEP[:ITERATIONS]</c>.</param>
/// <param name="Stage">The stage.</param>
/// <param name="Iterations">The iterations of the loops (and fan-out items) around it, outermost first.</param>
/// <param name="Branch">Where it is nested, as in messages; empty in the flow's own sequence.</param>
/// <param name="Attempt">The run's attempt that ran it (a resume after a crash is a new attempt).</param>
/// <param name="CheckpointCommitted">Whether a checkpoint that covers it committed afterwards in the same attempt: a recovery point
/// after it in its sequence or around it, or its parallel branch finishing. A stage so covered must never run again.</param>
public sealed record StageExecution(
    string Flow, RunId RunId, string Run, string Stage, IReadOnlyList<int> Iterations, string Branch, int Attempt, bool CheckpointCommitted)
{
    /// <summary>Reads as <c>stage 'charge' (iteration 1) of run 'purchase', attempt 2</c>.</summary>
    public override string ToString() =>
        $"stage '{Stage}'{(Iterations.Count == 0 ? "" : $" (iteration {string.Join('/', Iterations)})")}{Branch} of run '{Run}', attempt {Attempt}";
}
