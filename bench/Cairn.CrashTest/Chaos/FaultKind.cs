namespace Cairn.CrashTest.Chaos;

/// <summary>The faults the chaos soak injects.</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL a node, then start it again under its name.</summary>
    NodeKill,

    /// <summary><c>pg_terminate_backend</c> on some of the nodes' connections, picked at random.</summary>
    BackendTerminate,
}
