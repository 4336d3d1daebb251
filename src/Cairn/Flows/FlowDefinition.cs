namespace Cairn.Flows;

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

    /// <summary>The names of the stages, in order, those inside loops and branches included.</summary>
    public IReadOnlyList<string> StageNames => [.. Flatten(Steps).Where(s => s is not RecoveryPointStep and not CompositeStep).Select(s => s.Name)];

    /// <summary>The names of the recovery points, in order, those inside loops and branches included.</summary>
    public IReadOnlyList<string> RecoveryPointNames => [.. Flatten(Steps).OfType<RecoveryPointStep>().Select(s => s.Name)];

    internal IReadOnlyList<FlowStep> Steps { get; }

    /// <summary>The application data sources the flow's stages are bound to, each once.</summary>
    internal IReadOnlyList<StageDataSource> DataSources => field ??= [.. Flatten(Steps).Select(s => s.DataSource).OfType<StageDataSource>().Distinct()];

    /// <summary>
    /// A fingerprint of the flow's structure — the kinds, names and nesting of its steps — recorded with each run when it
    /// starts, so that a run resumed on changed code can say that the structure changed. 16 hexadecimal digits.
    /// </summary>
    public string Fingerprint => field ??= Checksum.Compute(System.Text.Encoding.UTF8.GetBytes(Describe(Steps)))[..16];

    /// <summary>
    /// The flow's structure — its stages, recovery points with their status messages, and the bodies of its loops,
    /// branches, parallel steps and sub-flows — as the engine records it in the store for operators' tools.
    /// </summary>
    public IReadOnlyList<FlowStepInfo> Structure => field ??= FlowStepInfo.Describe(Steps);

    /// <summary>The structure as text: <c>stage:read;point:read-done;loop:each[stage:load;point:loaded]</c>.</summary>
    internal static string Describe(IEnumerable<FlowStep> steps) => string.Join(';', steps.Select(step => step switch
    {
        RecoveryPointStep => $"point:{step.Name}",
        CompositeStep composite => $"{step.Kind}:{step.Name}{string.Concat(composite.Bodies.Select(body => $"[{Describe(body)}]"))}",
        _ => $"stage:{step.Name}",
    }));

    /// <summary>Every step, depth first: a loop or branch, then the steps of its bodies.</summary>
    internal static IEnumerable<FlowStep> Flatten(IEnumerable<FlowStep> steps)
    {
        foreach (var step in steps)
        {
            yield return step;
            if (step is CompositeStep composite)
            {
                foreach (var inner in composite.Bodies.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }

    internal abstract Task RunAttemptAsync(EngineContext context, Storage.ClaimedRun claimed, byte[]? knownInput, CancellationToken cancellationToken);

    /// <summary>Starts the run of a schedule's slot from the schedule's serialized input.</summary>
    internal abstract Task<RunRecord> StartScheduledAsync(CairnEngine engine, ReadOnlyMemory<byte> input, string recoveryId, CancellationToken cancellationToken);

    /// <summary>The flow's name and version, as in messages: <c>order-import v3</c>.</summary>
    public override string ToString() => $"{Name} v{Version}";
}
