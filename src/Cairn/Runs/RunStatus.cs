namespace Cairn.Runs;

/// <summary>Where a run is in its lifecycle.</summary>
public enum RunStatus
{
    /// <summary>Created or re-run, waiting to be claimed by an engine.</summary>
    Pending = 0,

    /// <summary>Owned by an engine that is executing its stages.</summary>
    Running = 1,

    /// <summary>An attempt failed; the run will be retried from its last recovery point when due.</summary>
    WaitingForRetry = 2,

    /// <summary>The run's owner stopped or died while it was running; it resumes from its last recovery point.</summary>
    Interrupted = 3,

    /// <summary>All stages ran; the result is stored and the recovery data deleted.</summary>
    Completed = 4,

    /// <summary>The run failed for good (retries used up, permanent error); an operator can re-run it.</summary>
    Failed = 5,

    /// <summary>An operator cancelled the run.</summary>
    Cancelled = 6,

    /// <summary>The run failed for good or was cancelled with compensation, and the compensations of its completed stages ran.</summary>
    Compensated = 7,

    /// <summary>
    /// Waiting without a slot at a durable timer (<c>Delay</c>) or for an external signal (<c>WaitFor</c>): its state is
    /// saved; it is claimed again when the time comes or a signal wakes it.
    /// </summary>
    Waiting = 8,
}

/// <summary>Helpers over <see cref="RunStatus"/>.</summary>
public static class RunStatusExtensions
{
    /// <summary>Whether the run has ended: completed, failed, cancelled or compensated.</summary>
    public static bool IsFinished(this RunStatus status) =>
        status is RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled or RunStatus.Compensated;
}
