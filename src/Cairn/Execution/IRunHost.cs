namespace Cairn.Execution;

/// <summary>
/// What an attempt asks of the engine that hosts it, and nothing more: whether it is stopping, wake-ups for its claim
/// loop and its waiters, and starting the child run of a detached sub-flow (which the engine registers and may execute
/// at once in a free slot).
/// </summary>
internal interface IRunHost
{
    /// <summary>The engine claims nothing more: stages not yet started are left for the next attempt.</summary>
    bool IsStopping { get; }

    /// <summary>The engine's shutdown timeout passed: running stages are being cancelled.</summary>
    bool IsAborting { get; }

    /// <summary>Wakes the claim loop: a run may be due.</summary>
    void Wake();

    /// <summary>Hands a run completed here to its waiters, with its result.</summary>
    void NotifyCompleted(RunRecord run, byte[] result);

    /// <summary>Wakes the outbox dispatcher: a commit has just added messages to the outbox.</summary>
    void OutboxCommitted();

    /// <summary>Wakes the parent of a detached sub-flow's child that has just finished.</summary>
    Task WakeParentAsync(RunRecord child);

    /// <summary>Starts (or finds) the child run of a detached sub-flow, linked to its parent.</summary>
    Task<RunRecord> StartChildRunAsync<TChild>(Flow<TChild> child, TChild input, string recoveryId, RunId parent, CancellationToken cancellationToken);
}
