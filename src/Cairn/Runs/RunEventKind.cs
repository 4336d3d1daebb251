namespace Cairn.Runs;

/// <summary>What happened to a run, as recorded in its event history.</summary>
public enum RunEventKind
{
    /// <summary>The run was created.</summary>
    Created = 0,

    /// <summary>An attempt was claimed by an engine and started or resumed.</summary>
    Started = 1,

    /// <summary>A recovery point was passed and its checkpoint committed.</summary>
    RecoveryPointPassed = 2,

    /// <summary>An attempt failed and a retry was scheduled.</summary>
    RetryScheduled = 3,

    /// <summary>The run failed for good.</summary>
    Failed = 4,

    /// <summary>The run completed.</summary>
    Completed = 5,

    /// <summary>The run's owner stopped or was found dead; the run will resume.</summary>
    Interrupted = 6,

    /// <summary>An operator or a caller asked for the run to run again.</summary>
    RerunRequested = 7,

    /// <summary>An operator cancelled the run.</summary>
    Cancelled = 8,

    /// <summary>The run started undoing its completed stages (it failed for good, or an operator asked).</summary>
    Compensating = 9,

    /// <summary>Every compensation ran: the run is compensated.</summary>
    Compensated = 10,

    /// <summary>A compensation failed for good: the run failed with its error.</summary>
    CompensationFailed = 11,

    /// <summary>An operator asked for the run to be cancelled with compensation.</summary>
    CompensationRequested = 12,

    /// <summary>The run saved its state and waits without a slot for a timer or a signal.</summary>
    Waiting = 13,

    /// <summary>A signal was delivered to the run (kept until the run takes it).</summary>
    Signalled = 14,
}
