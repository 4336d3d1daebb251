namespace Cairn.Flows;

/// <summary>One step of a flow: a stage, a recovery point, a loop or a branch.</summary>
internal abstract record FlowStep(string Name)
{
    /// <summary>What messages call this kind of step: "stage", "recovery point", "loop", "branch".</summary>
    public abstract string Kind { get; }

    /// <summary>Whether the step is a transactional stage.</summary>
    public virtual bool IsTransactional => false;

    /// <summary>Whether the step is a stage with a compensation.</summary>
    public virtual bool HasCompensation => false;

    /// <summary>Whether the step needs a transaction of the store's database: a transactional stage or a transactional compensation.</summary>
    public virtual bool NeedsStoreTransaction => false;

    /// <summary>The application data source a stage is bound to, whose completion table records it; null for other steps.</summary>
    public StageDataSource? DataSource { get; init; }
}

/// <summary>
/// A stage: its work, or for a transactional stage its work inside the store's transaction, or for a stage bound to a
/// data source its work in a transaction of that database; and its compensation.
/// </summary>
internal sealed record StageStep<TState>(string Name, Func<StageContext<TState>, CancellationToken, Task>? Execute) : FlowStep(Name)
{
    public override string Kind => "stage";

    public override bool IsTransactional => InTransaction is not null;

    public override bool HasCompensation => Compensation is not null || CompensationInTransaction is not null;

    public override bool NeedsStoreTransaction => InTransaction is not null || CompensationInTransaction is not null;

    /// <summary>The work of a transactional stage, given the store's open transaction; null for a plain stage.</summary>
    public Func<StageContext<TState>, System.Data.Common.DbTransaction, CancellationToken, Task>? InTransaction { get; init; }

    /// <summary>
    /// The work of a stage bound to <see cref="FlowStep.DataSource"/>, given the data source's open unit of work; null for
    /// other stages.
    /// </summary>
    public Func<StageContext<TState>, StageUnitOfWork, CancellationToken, Task>? InUnitOfWork { get; init; }

    /// <summary>What undoes the stage's effects when the run fails for good or is cancelled with compensation; null for none.</summary>
    public Func<StageContext<TState>, CancellationToken, Task>? Compensation { get; init; }

    /// <summary>
    /// A compensation that runs inside a transaction of the store's database and commits with the checkpoint that records
    /// it done; null for none or a plain one.
    /// </summary>
    public Func<StageContext<TState>, System.Data.Common.DbTransaction, CancellationToken, Task>? CompensationInTransaction { get; init; }

    /// <summary>How the compensation is retried; null for <see cref="Runs.RetryPolicy.Default"/>.</summary>
    public RetryPolicy? CompensationRetry { get; init; }
}

internal sealed record RecoveryPointStep(string Name, string? StatusMessage) : FlowStep(Name)
{
    public override string Kind => "recovery point";
}

/// <summary>A step with bodies of steps of its own (the lanes of its position): a loop has one, a branch one per path.</summary>
internal abstract record CompositeStep(string Name) : FlowStep(Name)
{
    /// <summary>The bodies; a position inside the step names one by its lane (a loop: the iteration, body 0).</summary>
    public abstract IReadOnlyList<IReadOnlyList<FlowStep>> Bodies { get; }

    /// <summary>How messages name body <paramref name="body"/>: <c>loop 'x'</c>, <c>path 'then' of branch 'x'</c>.</summary>
    public abstract string BodyLabel(int body);

    /// <summary>The same step with other bodies (as many, in the same order): how builders add implicit recovery points.</summary>
    public abstract CompositeStep WithBodies(IReadOnlyList<IReadOnlyList<FlowStep>> bodies);

    /// <summary>The child flow a detached sub-flow starts as a run of its own; null for other steps.</summary>
    public virtual FlowDefinition? DetachedChild => null;

    /// <summary>Body <paramref name="body"/>'s own name, for a flow diagram: a branch's path, a parallel step's branch; null for a loop's body.</summary>
    public virtual string? BodyName(int body) => null;

    /// <summary>Problems of the step itself that validation reports (a switch's duplicate cases, for example).</summary>
    public virtual IEnumerable<string> Problems => [];

    /// <summary>Which body a lane of the position runs (a loop's iteration runs its only body, a branch's lane its path); -1 for none.</summary>
    public abstract int BodyOf(int lane);

    /// <summary>The body a lane of the position runs, or null.</summary>
    public IReadOnlyList<FlowStep>? BodyOfLane(int lane) => BodyOf(lane) is >= 0 and var body ? Bodies[body] : null;
}

/// <summary>How a loop decides whether to run another iteration.</summary>
internal enum LoopKind
{
    /// <summary>Once per item of a collection in the state.</summary>
    ForEach,

    /// <summary>While a condition on the state holds, checked before each iteration.</summary>
    While,

    /// <summary>Until a condition on the state holds, checked after each iteration: the body runs at least once.</summary>
    Until,
}

/// <summary>
/// A loop. Its position lane is the iteration number: a recovery point inside the body saves the iteration and the step
/// inside the body, so a resumed run continues that iteration and never runs a completed one again.
/// </summary>
internal sealed record LoopStep<TState>(
    string Name,
    LoopKind Loop,
    Func<TState, int>? Count,
    Func<TState, int, object?>? ItemAt,
    Func<TState, bool>? Condition,
    IReadOnlyList<FlowStep> Body) : CompositeStep(Name)
{
    public override string Kind => "loop";

    public override IReadOnlyList<IReadOnlyList<FlowStep>> Bodies => [Body];

    public override int BodyOf(int lane) => lane >= 0 ? 0 : -1;

    public override CompositeStep WithBodies(IReadOnlyList<IReadOnlyList<FlowStep>> bodies) => this with { Body = bodies[0] };

    public override string BodyLabel(int body) => $"loop '{Name}'";

    public override IEnumerable<string> Problems =>
        FlowDefinition.Flatten(Body).Any(s => s.Kind == "stage") ? [] : [$"loop '{Name}' has no stage in its body"];

    /// <summary>Whether iteration <paramref name="iteration"/> runs, decided from the state before it starts.</summary>
    public bool RunsIteration(TState state, int iteration) => Loop switch
    {
        LoopKind.ForEach => iteration < Count!(state),
        LoopKind.While => Condition!(state),
        _ => iteration == 0 || !Condition!(state),
    };
}

/// <summary>
/// A choice of one path among several (if/else, switch). Its position lane is the path taken, so a resumed run stays on
/// the path it was on even if the state would now choose another.
/// </summary>
internal sealed record BranchStep<TState>(string Name, Func<TState, int> Choose, IReadOnlyList<string> Labels, IReadOnlyList<IReadOnlyList<FlowStep>> Paths)
    : CompositeStep(Name)
{
    public override string Kind => "branch";

    /// <summary>Switch values given to more than one case; reported by validation.</summary>
    public IReadOnlyList<string> DuplicateCases { get; init; } = [];

    public override IReadOnlyList<IReadOnlyList<FlowStep>> Bodies => Paths;

    public override int BodyOf(int lane) => lane >= 0 && lane < Paths.Count ? lane : -1;

    public override CompositeStep WithBodies(IReadOnlyList<IReadOnlyList<FlowStep>> bodies) => this with { Paths = bodies };

    public override string BodyLabel(int body) => $"path '{Labels[body]}' of branch '{Name}'";

    public override string? BodyName(int body) => Labels[body];

    public override IEnumerable<string> Problems => DuplicateCases.Select(value => $"switch '{Name}' has two cases for the value '{value}'");
}
