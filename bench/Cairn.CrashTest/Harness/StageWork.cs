namespace Cairn.CrashTest.Harness;

/// <summary>What a crash-test stage does besides changing the state.</summary>
internal enum StageWork
{
    /// <summary>Nothing: the stage returns at once.</summary>
    Plain,

    /// <summary>Awaits a short random delay, so kills land inside it.</summary>
    Async,

    /// <summary>Hashes in a loop, a little CPU work.</summary>
    Cpu,

    /// <summary>Appends a block to the state, so checkpoints grow.</summary>
    Grow,
}
