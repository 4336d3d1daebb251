namespace Cairn.Execution;

/// <summary>
/// Watches the boundaries of attempts (each stage's start, each committed checkpoint) and may end an attempt there as if
/// its process died, by throwing <see cref="SimulatedCrashException"/>: the crash kit of <c>Cairn.Testing</c>. Set on
/// <see cref="CairnOptions.AttemptObserver"/>; called on the attempts' own threads, concurrently inside parallel steps.
/// </summary>
internal interface IAttemptObserver
{
    /// <summary>Whether the engine has crashed: every attempt then ends at once with no further write.</summary>
    bool HasCrashed { get; }

    /// <summary>A stage is about to run.</summary>
    /// <param name="scope">The attempt.</param>
    /// <param name="stage">The stage's name.</param>
    /// <param name="iterations">The iterations of the loops (and fan-out items) around it, outermost first.</param>
    /// <param name="branch">Where its sequence is nested (<see cref="StepRunner{TS}.WhereSuffix"/>); empty in the flow's own sequence.</param>
    void BeforeStage(AttemptScope scope, string stage, IReadOnlyList<int> iterations, string branch);

    /// <summary>A checkpoint is about to be written; a crashed engine writes nothing more.</summary>
    void BeforeCheckpoint(RunRecord run);

    /// <summary>A checkpoint saved by the sequence at <paramref name="branch"/> has committed.</summary>
    /// <param name="scope">The attempt.</param>
    /// <param name="label">The recovery point's name, a finished branch's <c>PARALLEL/BRANCH</c>, or a detached sub-flow's name.</param>
    /// <param name="iterations">The iterations of the loops around the save.</param>
    /// <param name="branch">Where the saving sequence is nested; the checkpoint covers the stages run there and in the sequences around it.</param>
    void AfterCheckpoint(AttemptScope scope, string label, IReadOnlyList<int> iterations, string branch);
}

/// <summary>The crash kit ended an attempt as if its process died; the attempt ends without writing anything more.</summary>
internal sealed class SimulatedCrashException(string message) : Exception(message);
