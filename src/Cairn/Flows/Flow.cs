namespace Cairn.Flows;

/// <summary>A flow over the state type <typeparamref name="TState"/>. Build one with <see cref="Flow.Create{TState}"/>.</summary>
/// <typeparam name="TState">The flow's state: what recovery points save.</typeparam>
public sealed class Flow<TState> : FlowDefinition
{
    internal Flow(string name, int version, RetryPolicy? retryPolicy, IReadOnlyList<FlowStep> steps, Func<int, ReadOnlyMemory<byte>, TState>? upgradeState = null)
        : base(name, version, retryPolicy, steps)
    {
        UpgradeState = upgradeState;
    }

    /// <summary>
    /// Converts a state saved by an older version of the flow (its version and its serialized bytes) into this version's
    /// state; null when the flow has none and an older state is read as it is.
    /// </summary>
    internal Func<int, ReadOnlyMemory<byte>, TState>? UpgradeState { get; }

    /// <inheritdoc />
    public override Type StateType => typeof(TState);

    internal override Task RunAttemptAsync(EngineContext context, Storage.ClaimedRun claimed, byte[]? knownInput, CancellationToken cancellationToken) =>
        new RunAttempt<TState>(context, this, claimed, knownInput).ExecuteAsync(cancellationToken);

    internal override Task<RunRecord> StartScheduledAsync(CairnEngine engine, ReadOnlyMemory<byte> input, string recoveryId, CancellationToken cancellationToken) =>
        engine.StartScheduledRunAsync(this, input, recoveryId, cancellationToken);
}

/// <summary>Starts flow definitions.</summary>
public static class Flow
{
    /// <summary>Starts the definition of a flow.</summary>
    /// <param name="name">The flow's name: letters, digits, '-', '_' and '.'.</param>
    /// <param name="version">The flow's version, 1 or more. Default 1.</param>
    public static FlowBuilder<TState> Create<TState>(string name, int version = 1) => new(name, version);
}
