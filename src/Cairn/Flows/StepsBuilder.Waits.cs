namespace Cairn.Flows;

public abstract partial class StepsBuilder<TState, TSelf>
{
    /// <summary>
    /// Adds a durable timer: the run saves a checkpoint, gives up its slot and goes on <paramref name="duration"/> after it
    /// reached the step — across restarts, on whichever node is up then. A run waiting a month costs a row in the
    /// store, not a task in memory.
    /// </summary>
    /// <param name="name">The step's name, unique in the flow.</param>
    /// <param name="duration">How long to wait; zero or less goes on at once.</param>
    public TSelf Delay(string name, TimeSpan duration)
    {
        Steps.Add(new DelayStep<TState>(name, (_, since) => since + duration));
        return Self;
    }

    /// <summary>
    /// Adds a durable timer that goes on at a time computed from the state (a due date, the start of a business day):
    /// the run saves a checkpoint, gives up its slot and is claimed again at that time. A time already past goes on at once.
    /// </summary>
    /// <param name="name">The step's name, unique in the flow.</param>
    /// <param name="until">The time to go on at, read from the state when the run reaches the step (and when it resumes there).</param>
    public TSelf Delay(string name, Func<TState, DateTimeOffset> until)
    {
        ArgumentNullException.ThrowIfNull(until);
        Steps.Add(new DelayStep<TState>(name, (state, _) => until(state)));
        return Self;
    }

    /// <summary>
    /// Adds a wait for an external signal (an approval, a webhook): the run saves a checkpoint and waits without a slot
    /// until <c>SignalAsync</c> delivers the signal <paramref name="signal"/> to it, from code, the REST API or
    /// <c>cairn runs signal</c>. A signal sent before the run reaches the step is kept and taken when it does; a second
    /// signal with the same signal ID is ignored; each signal is taken once. Taking it saves a checkpoint with the state
    /// <paramref name="received"/> changed.
    /// </summary>
    /// <typeparam name="TPayload">The signal's payload type, read with the engine's serializer.</typeparam>
    /// <param name="signal">The signal's name, also the step's name: unique in the flow.</param>
    /// <param name="received">Takes the payload into the state.</param>
    /// <param name="timeout">How long to wait once the step is reached; null to wait until the signal comes.</param>
    /// <param name="onTimeout">
    /// The steps to run when the timeout passes before a signal comes; null to fail the run then (a permanent failure an
    /// operator can re-run).
    /// </param>
    public TSelf WaitFor<TPayload>(string signal, Action<TState, TPayload> received, TimeSpan? timeout = null, Action<FlowBody<TState>>? onTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(received);
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"The timeout of signal '{signal}' must be more than zero, or null to wait without one.");
        }

        if (onTimeout is not null && timeout is null)
        {
            throw new ArgumentException($"Signal '{signal}' has a timeout branch but no timeout.", nameof(onTimeout));
        }

        Steps.Add(new SignalStep<TState, TPayload>(signal, timeout, onTimeout is null ? null : Build(onTimeout), received));
        return Self;
    }
}
