namespace Cairn.CrashTest.Harness;

/// <summary>When the harness kills a worker.</summary>
internal enum KillMoment
{
    /// <summary>Not at all: the worker runs until every run of its round has finished.</summary>
    None,

    /// <summary>After a random delay from the process start: during start-up, migration, the interrupt sweep or run creation.</summary>
    Startup,

    /// <summary>After a random delay once the worker's engine has started: while it creates, resumes and executes runs.</summary>
    Random,

    /// <summary>In the middle of a stage, which the worker holds there until it is killed.</summary>
    Stage,

    /// <summary>Right after the worker reports that a checkpoint write started: during serialization, the write or its commit.</summary>
    Checkpoint,

    /// <summary>Right after the last stage of a run returned: while the run's result is saved and its completion committed.</summary>
    Commit,
}
