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

    /// <param name="host">The runner of the sequence the step is in.</param>
    /// <param name="position">The step's position.</param>
    /// <param name="resumed">Whether the attempt resumed waiting at this step (the child exists already).</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <exception cref="WaitingForChildRunException">The child has not finished: the parent waits.</exception>
    public abstract Task ExecuteAsync(StepRunner<TState> host, int[] position, bool resumed, CancellationToken cancellationToken);
}

/// <summary>A detached sub-flow whose child flow has the state type <typeparamref name="TChild"/>.</summary>
internal sealed record ChildRunStep<TState, TChild>(
    string Name, Flow<TChild> Child, Func<TState, TChild> Input, Action<TState, RunOutcome<TChild>>? OnFinished) : ChildRunStep<TState>(Name)
{
    /// <summary>The child's flow, registered with every engine that registers the parent.</summary>
    public override FlowDefinition? DetachedChild => Child;

    public override async Task ExecuteAsync(StepRunner<TState> host, int[] position, bool resumed, CancellationToken cancellationToken)
    {
        var scope = host.Scope;
        var engine = scope.Context;
        var iterations = host.Iterations;
        var recoveryId = iterations.Count == 0 ? $"{scope.Run.Id}:{Name}" : $"{scope.Run.Id}:{Name}:{string.Join(':', iterations)}";
        host.Where = $"at detached sub-flow '{Name}' ({Child})";
        var child = resumed
            ? await engine.Queries.FindRunAsync(Child.Name, recoveryId, cancellationToken).ConfigureAwait(false)
                ?? throw new ChildRunFailedException($"Child run '{recoveryId}' of flow '{Child.Name}', which run {scope.Run.Id} waits for, no longer exists (was it purged?).")
            : await engine.Host.StartChildRunAsync(Child, Input(host.State), recoveryId, scope.Run.Id, cancellationToken).ConfigureAwait(false);
        var outcome = await engine.TryGetOutcomeAsync<TChild>(child, cancellationToken).ConfigureAwait(false);
        if (outcome is null)
        {
            if (!resumed)
            {
                var state = engine.Codec.Serialize(host.State, $"Flow {scope.Flow} could not wait at detached sub-flow '{Name}' for run {scope.Run.Id}: the state", "");
                await host.SaveRaw(Name, FlowPath.Of([.. position, Lane]), $"waiting for child run {child.Id}", state, cancellationToken).ConfigureAwait(false);
            }

            throw new WaitingForChildRunException(child.Id, $"{Child}", Name);
        }

        if (OnFinished is { } handle)
        {
            host.Where = $"in the handler of detached sub-flow '{Name}' ({Child})";
            handle(host.State, outcome);
            return;
        }

        if (!outcome.IsCompleted)
        {
            throw new ChildRunFailedException($"Child run {outcome.RunId} ({Child}) ended {outcome.Status}: {outcome.Error}");
        }
    }
}

/// <summary>The child run of a detached sub-flow has not finished: the parent's attempt ends and the parent waits.</summary>
internal sealed class WaitingForChildRunException(RunId child, string flow, string step)
    : Exception($"waiting for child run {child} ({flow}) at detached sub-flow '{step}'")
{
    public RunId Child { get; } = child;
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
