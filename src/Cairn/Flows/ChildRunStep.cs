namespace Cairn.Flows;

/// <summary>
/// A detached sub-flow: the child is a run of its own (its own recovery points, retries, node), linked to its parent by
/// its recovery ID (<c>PARENT:STEP[:ITERATIONS]</c>) and its settings. The parent does not hold a slot while it waits: it
/// saves a checkpoint at the step (position lane <see cref="Lane"/>) and waits for a retry that does not use one up;
/// the child's end wakes it, and a timer (<see cref="CairnOptions.ChildRunCheckInterval"/>) is the fallback.
/// </summary>
internal abstract record ChildRunStep<TState>(string Name) : CompositeStep(Name)
{
    /// <summary>The lane of a position at a detached sub-flow whose parent waits for the child.</summary>
    public const int Lane = -2;

    public override string Kind => "detached sub-flow";

    public override IReadOnlyList<IReadOnlyList<FlowStep>> Bodies => [];

    public override int BodyOf(int lane) => -1;

    public override string BodyLabel(int body) => $"detached sub-flow '{Name}'";

    public override CompositeStep WithBodies(IReadOnlyList<IReadOnlyList<FlowStep>> bodies) => this;

    /// <summary>Hands the step, with its child's state type, to what runs it.</summary>
    public abstract Task RunWith(IStepExecutor<TState> executor);
}

/// <summary>A detached sub-flow whose child flow has the state type <typeparamref name="TChild"/>.</summary>
internal sealed record ChildRunStep<TState, TChild>(
    string Name, Flow<TChild> Child, Func<TState, TChild> Input, Action<TState, RunOutcome<TChild>>? OnFinished) : ChildRunStep<TState>(Name)
{
    /// <summary>The child's flow, registered with every engine that registers the parent.</summary>
    public override FlowDefinition? DetachedChild => Child;

    public override Task RunWith(IStepExecutor<TState> executor) => executor.RunChildRunAsync(this);

    /// <summary>The child's recovery ID: <c>PARENT:STEP</c>, with the iterations of the loops around the step.</summary>
    public string ChildRecoveryId(RunId parent, IReadOnlyList<int> iterations) =>
        iterations.Count == 0 ? $"{parent}:{Name}" : $"{parent}:{Name}:{string.Join(':', iterations)}";
}

/// <summary>
/// The child run of a detached sub-flow failed or was cancelled and the parent has no handler for it, or the child is
/// gone. Permanent: the parent fails and keeps its checkpoint; re-running the child, once it completes, re-runs the
/// parent.
/// </summary>
public sealed class ChildRunFailedException : CairnException
{
    /// <summary>Creates the error.</summary>
    public ChildRunFailedException(string message)
        : base(message)
    {
    }

    /// <inheritdoc />
    public override bool IsPermanent => true;
}
