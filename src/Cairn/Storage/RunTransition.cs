namespace Cairn.Storage;

/// <summary>A fenced change of a running run's status, recorded with an event.</summary>
/// <param name="Status">The new status: <see cref="RunStatus.WaitingForRetry"/>, <see cref="RunStatus.Failed"/> or <see cref="RunStatus.Interrupted"/>.</param>
/// <param name="EventKind">The event to record.</param>
/// <param name="Message">The event's message.</param>
public sealed record RunTransition(RunStatus Status, RunEventKind EventKind, string Message)
{
    /// <summary>The error that ended the attempt, stored as the run's last error.</summary>
    public string? LastError { get; init; }

    /// <summary>For <see cref="RunStatus.WaitingForRetry"/>: how long from now (the store's clock) the run is due.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Whether this transition uses up one of the run's automatic retries.</summary>
    public bool CountsAsRetry { get; init; }
}
