namespace Cairn;

/// <summary>A named, versioned flow: stages and recovery points over a state type. Immutable and thread-safe.</summary>
public abstract class FlowDefinition
{
    private protected FlowDefinition(string name, int version, RetryPolicy? retryPolicy, IReadOnlyList<FlowStep> steps)
    {
        Name = name;
        Version = version;
        RetryPolicy = retryPolicy;
        Steps = steps;
    }

    /// <summary>The flow's name, unique within an engine.</summary>
    public string Name { get; }

    /// <summary>The flow's version, recorded in each run.</summary>
    public int Version { get; }

    /// <summary>The flow's retry policy, or null to use the engine's default.</summary>
    public RetryPolicy? RetryPolicy { get; }

    /// <summary>The type of the flow's state.</summary>
    public abstract Type StateType { get; }

    /// <summary>The names of the stages, in order.</summary>
    public IReadOnlyList<string> StageNames => [.. Steps.Where(s => s is not RecoveryPointStep).Select(s => s.Name)];

    /// <summary>The names of the recovery points, in order.</summary>
    public IReadOnlyList<string> RecoveryPointNames => [.. Steps.OfType<RecoveryPointStep>().Select(s => s.Name)];

    internal IReadOnlyList<FlowStep> Steps { get; }

    internal abstract Task RunAttemptAsync(CairnEngine engine, Storage.ClaimedRun claimed, byte[]? knownInput, CancellationToken cancellationToken);

    /// <summary>The flow's name and version, as in messages: <c>order-import v3</c>.</summary>
    public override string ToString() => $"{Name} v{Version}";
}
