namespace Cairn.Flows;

/// <summary>What a parallel step does with the other branches when one fails.</summary>
public enum ParallelFailure
{
    /// <summary>Cancel the other branches (their stages see their cancellation token), then fail the attempt.</summary>
    CancelOthers,

    /// <summary>Let the other branches finish, saving their progress, then fail the attempt.</summary>
    FinishOthers,
}

/// <summary>A step whose checkpoints save an envelope of nested states rather than the bare state: parallel steps, inline sub-flows.</summary>
internal interface IEnvelopeStep;

/// <summary>
/// Branches run concurrently, each on its own slice of the state with its own recovery points; an explicit merge joins
/// their slices into the state once all have finished. The position lane of a checkpoint inside the step is
/// <see cref="Lane"/>, and its state is a <see cref="ParallelEnvelope"/> holding every branch's progress.
/// </summary>
internal abstract record ParallelStep<TState>(string Name, int MaxConcurrency, ParallelFailure OnFailure) : CompositeStep(Name), IEnvelopeStep
{
    /// <summary>The lane of a position inside a parallel step: the envelope says where each branch is.</summary>
    public const int Lane = FlowPath.EnvelopeLane;

    /// <summary>Set for an inline sub-flow: one branch, the child flow, named after it.</summary>
    public string? SubFlow { get; init; }

    public override string Kind => SubFlow is null ? "parallel" : "sub-flow";

    public override int BodyOf(int lane) => -1;

    /// <summary>The branches' names, in order (a fan-out's are its item indexes, known only when it starts).</summary>
    public abstract IReadOnlyList<string> BranchNames { get; }

    public override string? BodyName(int body) => SubFlow ?? (BranchNames.Count > body ? BranchNames[body] : "each item");

    public override string BodyLabel(int body) =>
        SubFlow is not null ? $"sub-flow '{Name}' ({SubFlow})"
        : BranchNames.Count > body ? $"branch '{BranchNames[body]}' of parallel '{Name}'"
        : $"the body of parallel '{Name}'";

    public override IEnumerable<string> Problems
    {
        get
        {
            if (MaxConcurrency < 1)
            {
                yield return $"parallel '{Name}' runs at most {MaxConcurrency} branch(es) at once; it must be 1 or more";
            }

            if (Bodies.Count == 0)
            {
                yield return $"parallel '{Name}' has no branch";
            }

            foreach (var duplicate in BranchNames.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                yield return $"parallel '{Name}' has two branches named '{duplicate.Key}'";
            }

            for (var i = 0; i < Bodies.Count; i++)
            {
                if (!FlowDefinition.Flatten(Bodies[i]).Any(s => s.Kind == "stage"))
                {
                    yield return $"{BodyLabel(i)} has no stage";
                }

            }
        }
    }

    /// <summary>Hands the step, with its slice type, to what runs it.</summary>
    public abstract Task RunWith(IStepExecutor<TState> executor);
}

/// <summary>A parallel step whose branches work on slices of type <typeparamref name="TSlice"/>.</summary>
/// <param name="Name">The step's name.</param>
/// <param name="Branches">
/// The branches when they are named; null for a fan-out, which has one branch per item of a collection in the state.
/// </param>
/// <param name="FanOut">The fan-out's items and body; null for named branches.</param>
/// <param name="Merge">Joins the finished branches' slices, in branch order, into the state.</param>
/// <param name="MaxConcurrency">How many branches run at once.</param>
/// <param name="OnFailure">What the other branches do when one fails.</param>
internal sealed record ParallelStep<TState, TSlice>(
    string Name,
    IReadOnlyList<ParallelBranch<TState, TSlice>>? Branches,
    ParallelFanOut<TState, TSlice>? FanOut,
    Action<TState, IReadOnlyList<(string Branch, TSlice Slice)>> Merge,
    int MaxConcurrency,
    ParallelFailure OnFailure) : ParallelStep<TState>(Name, MaxConcurrency, OnFailure)
{
    public override IReadOnlyList<IReadOnlyList<FlowStep>> Bodies =>
        Branches is not null ? [.. Branches.Select(b => b.Body)] : [FanOut!.Body];

    public override IReadOnlyList<string> BranchNames => Branches is not null ? [.. Branches.Select(b => b.Name)] : [];

    public override CompositeStep WithBodies(IReadOnlyList<IReadOnlyList<FlowStep>> bodies) => Branches is not null
        ? this with { Branches = [.. Branches.Select((b, i) => b with { Body = bodies[i] })] }
        : this with { FanOut = FanOut! with { Body = bodies[0] } };

    public override Task RunWith(IStepExecutor<TState> executor) => executor.RunParallelAsync(this);

    /// <summary>How many branches the step has when it starts from <paramref name="state"/>.</summary>
    public int BranchCount(TState state) => Branches?.Count ?? FanOut!.Count(state);

    /// <summary>The body branch <paramref name="branch"/> runs.</summary>
    public IReadOnlyList<FlowStep> BranchBody(int branch) => Branches is not null ? Branches[branch].Body : FanOut!.Body;

    /// <summary>How messages name branch <paramref name="branch"/> (<paramref name="name"/>) and where it is.</summary>
    public string BranchLabel(int branch, string name) =>
        SubFlow is not null ? $"sub-flow '{Name}' ({SubFlow})"
        : Branches is not null ? $"branch '{name}' of parallel '{Name}'"
        : $"item {branch} of parallel '{Name}'";
}

/// <summary>A named branch of a parallel step.</summary>
internal sealed record ParallelBranch<TState, TSlice>(string Name, Func<TState, TSlice> Slice, IReadOnlyList<FlowStep> Body);

/// <summary>A fan-out: one branch per item of a collection in the state, all running the same body.</summary>
internal sealed record ParallelFanOut<TState, TSlice>(
    Func<TState, int> Count, Func<TState, int, object?> ItemAt, Func<TState, int, TSlice> Slice, IReadOnlyList<FlowStep> Body);
