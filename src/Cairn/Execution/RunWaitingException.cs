namespace Cairn.Execution;

/// <summary>
/// The run saved its state at a <c>Delay</c> or <c>WaitFor</c> step and waits without a slot: the attempt ends and the
/// run becomes <see cref="RunStatus.Waiting"/>, due at <see cref="DueAt"/> (null: only a signal wakes it).
/// </summary>
internal sealed class RunWaitingException(DateTimeOffset? dueAt, string waiting, string? signal) : Exception($"waiting {waiting}")
{
    /// <summary>When the run is due again: the timer's time or the signal's timeout; null for none.</summary>
    public DateTimeOffset? DueAt { get; } = dueAt;

    /// <summary>What the run waits for, for messages.</summary>
    public string Waiting { get; } = waiting;

    /// <summary>The signal the run waits for; null for a timer.</summary>
    public string? Signal { get; } = signal;
}
