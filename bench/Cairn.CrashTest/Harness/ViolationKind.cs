namespace Cairn.CrashTest.Harness;

/// <summary>The invariants the crash-test harness checks; each violation names the one it breaks.</summary>
internal enum ViolationKind
{
    /// <summary>A run that was created is missing or did not complete.</summary>
    RunLost,

    /// <summary>A completed run's stored result differs from the state its stages must produce.</summary>
    WrongFinalState,

    /// <summary>A stage started again after a recovery point behind it had been committed for its run.</summary>
    StageRepeated,

    /// <summary>A stored checkpoint's SHA-256 does not match its checksum column.</summary>
    ChecksumMismatch,

    /// <summary><c>PRAGMA integrity_check</c> did not answer <c>ok</c>.</summary>
    IntegrityCheck,

    /// <summary>An attempt failed or was retried, or a worker process died by itself: none of that may happen here.</summary>
    UnexpectedError,

    /// <summary>Chaos soak: a run had not ended (completed, failed after its retries, compensated) when the soak drained.</summary>
    RunNotEnded,

    /// <summary>Chaos soak: a transactional stage's (or compensation's) effect row was committed twice, or is missing for a run past it.</summary>
    EffectNotOnce,

    /// <summary>Chaos soak: an outbox message committed with a checkpoint was never delivered, or is still in the outbox.</summary>
    MessageLost,

    /// <summary>Chaos soak: the deliveries of one message carried different message IDs, or a message was delivered that was never committed.</summary>
    MessageWrong,

    /// <summary>Chaos soak: the store accepted a write of an attempt after a newer attempt of its run had started (fencing failed).</summary>
    WriteAfterTakeover,

    /// <summary>Chaos soak: a node was told a checkpoint committed, and the store has no record of it.</summary>
    CommitLost,

    /// <summary>Chaos soak: nothing completed, or no fault happened: such a soak proves nothing.</summary>
    VacuousSoak,
}
