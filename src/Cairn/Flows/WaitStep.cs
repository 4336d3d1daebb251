namespace Cairn.Flows;

/// <summary>
/// A step where a run waits without a slot: a durable timer (<see cref="DelayStep{TState}"/>) or an external signal
/// (<see cref="SignalStep{TState}"/>). The run saves a checkpoint at <see cref="WaitingLane"/>, its attempt ends, and the
/// store holds it as <see cref="RunStatus.Waiting"/> until it is due (the timer, the signal's timeout) or a signal wakes it.
/// </summary>
/// <param name="Name">The step's name: for a signal step, the signal's name.</param>
internal abstract record WaitStep<TState>(string Name) : CompositeStep(Name)
{
    /// <summary>The lane of a checkpoint saved when the run began to wait at the step.</summary>
    public const int WaitingLane = -3;

    /// <summary>The lane of a checkpoint saved when the run took the signal it waited for: it resumes after the step.</summary>
    public const int ReceivedLane = -4;

    /// <summary>
    /// When the wait ends: the timer's time, or the signal's timeout (null for none), from the state and the time the run
    /// began to wait (the waiting checkpoint's time, so that a resumed attempt finds the same time).
    /// </summary>
    public abstract DateTimeOffset? DueAt(TState state, DateTimeOffset since);

    /// <summary>What the step waits for, for messages: <c>until 2026-12-03T10:00:00Z</c>, <c>for signal 'approval'</c>.</summary>
    public abstract string Describe(DateTimeOffset? dueAt);
}

/// <summary>A durable timer: the run goes on at a time from the state or after a duration.</summary>
/// <param name="Name">The step's name.</param>
/// <param name="Until">The time to go on at, from the state and the time the run reached the step.</param>
internal sealed record DelayStep<TState>(string Name, Func<TState, DateTimeOffset, DateTimeOffset> Until) : WaitStep<TState>(Name)
{
    public override string Kind => "delay";

    public override IReadOnlyList<IReadOnlyList<FlowStep>> Bodies => [];

    public override int BodyOf(int lane) => -1;

    public override string BodyLabel(int body) => $"delay '{Name}'";

    public override CompositeStep WithBodies(IReadOnlyList<IReadOnlyList<FlowStep>> bodies) => this;

    public override DateTimeOffset? DueAt(TState state, DateTimeOffset since) => Until(state, since);

    public override string Describe(DateTimeOffset? dueAt) => $"until {dueAt:O} (delay '{Name}')";
}

/// <summary>Waits for the signal of the step's name; its timeout, if any, takes its own branch.</summary>
/// <param name="Name">The signal's name.</param>
/// <param name="Timeout">How long to wait; null to wait until the signal comes.</param>
/// <param name="OnTimeout">The steps to run when the timeout passes first; null to fail the run then.</param>
internal abstract record SignalStep<TState>(string Name, TimeSpan? Timeout, IReadOnlyList<FlowStep>? OnTimeout) : WaitStep<TState>(Name)
{
    public override string Kind => "signal";

    public override IReadOnlyList<IReadOnlyList<FlowStep>> Bodies => OnTimeout is null ? [] : [OnTimeout];

    public override int BodyOf(int lane) => lane == 0 && OnTimeout is not null ? 0 : -1;

    public override string BodyLabel(int body) => $"the timeout branch of signal '{Name}'";

    public override string? BodyName(int body) => "timeout";

    public override CompositeStep WithBodies(IReadOnlyList<IReadOnlyList<FlowStep>> bodies) => OnTimeout is null ? this : this with { OnTimeout = bodies[0] };

    public override DateTimeOffset? DueAt(TState state, DateTimeOffset since) => since + Timeout;

    public override string Describe(DateTimeOffset? dueAt) =>
        dueAt is { } due ? $"for signal '{Name}' until {due:O}" : $"for signal '{Name}'";

    /// <summary>The payload type, for messages.</summary>
    public abstract Type PayloadType { get; }

    /// <summary>Reads a signal's payload as <see cref="PayloadType"/>.</summary>
    /// <exception cref="Exception">The payload cannot be read as <see cref="PayloadType"/>.</exception>
    public abstract object? Read(ReadOnlySpan<byte> payload, StateSerializer serializer);

    /// <summary>Hands a payload <see cref="Read"/> returned to the flow's handler, which changes the state.</summary>
    public abstract void Receive(TState state, object? payload);
}

/// <inheritdoc cref="SignalStep{TState}"/>
/// <param name="Name">The signal's name.</param>
/// <param name="Timeout">How long to wait; null to wait until the signal comes.</param>
/// <param name="OnTimeout">The steps to run when the timeout passes first; null to fail the run then.</param>
/// <param name="Received">Takes the payload into the state.</param>
internal sealed record SignalStep<TState, TPayload>(string Name, TimeSpan? Timeout, IReadOnlyList<FlowStep>? OnTimeout, Action<TState, TPayload> Received)
    : SignalStep<TState>(Name, Timeout, OnTimeout)
{
    public override Type PayloadType => typeof(TPayload);

    public override object? Read(ReadOnlySpan<byte> payload, StateSerializer serializer) => serializer.Deserialize<TPayload>(payload);

    public override void Receive(TState state, object? payload) => Received(state, (TPayload)payload!);
}
