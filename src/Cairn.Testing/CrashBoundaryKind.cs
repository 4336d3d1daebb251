namespace Cairn.Testing;

/// <summary>The two kinds of place where the crash kit can crash a run.</summary>
public enum CrashBoundaryKind
{
    /// <summary>Just before a stage runs: the stage's work is lost with the process.</summary>
    BeforeStage = 0,

    /// <summary>Just after a checkpoint committed (at a recovery point, a finished parallel branch, or a detached sub-flow's wait).</summary>
    AfterCheckpoint = 1,
}
