namespace Cairn.CrashTest.Chaos;

/// <summary>The faults the chaos soak injects.</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL a node, then start it again under its name.</summary>
    NodeKill,

    /// <summary>SIGSTOP a node for longer than its lease, then SIGCONT it: its runs are taken over meanwhile.</summary>
    NodePause,

    /// <summary><c>pg_ctl restart -m immediate</c>: every connection drops, the server recovers from its WAL.</summary>
    DatabaseRestart,

    /// <summary><c>pg_terminate_backend</c> on some of the nodes' connections, picked at random.</summary>
    BackendTerminate,

    /// <summary>Fill the storage folder (a small tmpfs) to the last byte, then free it again.</summary>
    StorageFill,
}
