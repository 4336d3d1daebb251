using System.Data.Common;

namespace Cairn.Flows;

/// <summary>
/// The steps every sequence of a flow can hold — stages, recovery points, loops and branches — shared by the flow's
/// builder and the builders of loop bodies and branch paths. Recovery points are allowed everywhere, inside loops and
/// branches too: a checkpoint saves where the run is, iteration and path included.
/// </summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
/// <typeparam name="TSelf">The concrete builder, returned by every method so that calls chain.</typeparam>
public abstract partial class StepsBuilder<TState, TSelf>
    where TSelf : StepsBuilder<TState, TSelf>
{
    private protected StepsBuilder()
    {
    }

    internal List<FlowStep> Steps { get; } = [];

    private TSelf Self => (TSelf)this;

    /// <summary>Adds a stage written as a delegate.</summary>
    /// <param name="name">The stage's name, unique in the flow.</param>
    /// <param name="execute">The stage's work: reads and changes <see cref="StageContext{TState}.State"/>.</param>
    public TSelf Stage(string name, Func<StageContext<TState>, CancellationToken, Task> execute)
    {
        ArgumentNullException.ThrowIfNull(execute);
        Steps.Add(new StageStep<TState>(name, execute));
        return Self;
    }

    /// <summary>Adds a stage written as a class instance.</summary>
    public TSelf Stage(string name, IStage<TState> stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        Steps.Add(new StageStep<TState>(name, stage.ExecuteAsync));
        return Self;
    }

    /// <summary>Adds a stage written as a class with a parameterless constructor; one instance serves every run.</summary>
    public TSelf Stage<TStage>(string name) where TStage : IStage<TState>, new() => Stage(name, new TStage());

    /// <summary>
    /// Adds a transactional stage: it runs inside a transaction of the store's own database (SQLite or PostgreSQL), and
    /// the recovery point that must follow it commits in that same transaction. The stage's writes to the application's
    /// tables in that database (the same SQLite file, or another schema of the same PostgreSQL database) and the
    /// checkpoint commit together, fenced like every write of the run: a crash anywhere leaves both or neither, and an
    /// attempt that lost its lease commits neither. Messages the stage adds to <see cref="StageContext{TState}.Outbox"/>
    /// commit with them. A stage before the committed recovery point never runs again, so its writes happen once.
    /// </summary>
    /// <param name="name">The stage's name, unique in the flow.</param>
    /// <param name="execute">
    /// The stage's work: write through the transaction's <see cref="DbTransaction.Connection"/>, with the transaction set
    /// on every command (<c>command.Transaction = transaction</c>). Keep it short: on SQLite the store's other writes wait
    /// while it is open. Do not commit or roll it back; throw to roll it back.
    /// </param>
    public TSelf TransactionalStage(string name, Func<StageContext<TState>, DbTransaction, CancellationToken, Task> execute)
    {
        ArgumentNullException.ThrowIfNull(execute);
        Steps.Add(new StageStep<TState>(name, null) { InTransaction = execute });
        return Self;
    }

    /// <summary>
    /// Adds a transactional stage on the application's own database (another PostgreSQL database, another SQLite file,
    /// SQL Server, MySQL): it runs in a transaction of <paramref name="dataSource"/>, and the engine records its
    /// completion — the state it produced and the outbox messages it added — in that database's completion table, in the
    /// same transaction, as the last statement before COMMIT. A stage whose completion is recorded never runs again for
    /// its run: an attempt that reaches it again (after a crash, a retry, a re-run) takes the recorded state and messages
    /// instead, so its writes happen once; of two attempts racing (a node that lost its lease and its successor) only one
    /// commits, and the other's writes roll back. No recovery point needs to follow it, and it works on every store.
    /// Messages it adds to <see cref="StageContext{TState}.Outbox"/> commit with the run's next checkpoint.
    /// </summary>
    /// <param name="name">The stage's name, unique in the flow.</param>
    /// <param name="dataSource">The application's database, for example an <see cref="ApplicationDataSource"/>.</param>
    /// <param name="execute">
    /// The stage's work: write through the transaction's <see cref="DbTransaction.Connection"/>, with the transaction set
    /// on every command. Do not commit or roll it back; throw to roll it back.
    /// </param>
    public TSelf TransactionalStage(string name, StageDataSource dataSource, Func<StageContext<TState>, DbTransaction, CancellationToken, Task> execute)
    {
        ArgumentNullException.ThrowIfNull(execute);
        return UnitOfWorkStage(name, dataSource, (context, unit, cancellationToken) => execute(context, unit.Transaction, cancellationToken));
    }

    /// <summary>
    /// Adds a transactional stage on the application's own database that works on the data source's unit of work itself:
    /// what integration packages build their own stage shapes on (Entity Framework Core's hands the stage its DbContext).
    /// It behaves as <see cref="TransactionalStage(string, StageDataSource, Func{StageContext{TState}, DbTransaction, CancellationToken, Task})"/>.
    /// </summary>
    /// <param name="name">The stage's name, unique in the flow.</param>
    /// <param name="dataSource">The application's database.</param>
    /// <param name="execute">The stage's work in the open unit of work. Do not commit it; throw to roll it back.</param>
    public TSelf UnitOfWorkStage(string name, StageDataSource dataSource, Func<StageContext<TState>, StageUnitOfWork, CancellationToken, Task> execute)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(execute);
        Steps.Add(new StageStep<TState>(name, null) { DataSource = dataSource, InUnitOfWork = execute });
        return Self;
    }

    /// <summary>
    /// Gives the stage just added a compensation: when the run fails for good, or an operator cancels it with
    /// compensation, the compensations of the stages that completed run in reverse order — durably, each checkpointed
    /// when done so that it never runs twice once recorded, resumed after a crash, and retried by
    /// <paramref name="retry"/>. The run ends <see cref="RunStatus.Compensated"/>, or <see cref="RunStatus.Failed"/> when a
    /// compensation fails for good. A compensation sees the state as the run left it, and the stage's iterations and
    /// idempotency key, which it can pass on to undo exactly what the stage did.
    /// </summary>
    /// <param name="compensation">Undoes the stage's effects.</param>
    /// <param name="retry">How a failed compensation is retried, in the same attempt. Default <see cref="RetryPolicy.Default"/>.</param>
    /// <exception cref="InvalidOperationException">The step just added is not a stage, or already has a compensation.</exception>
    public TSelf CompensateWith(Func<StageContext<TState>, CancellationToken, Task> compensation, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(compensation);
        var stage = StageToCompensate(retry);
        Steps[^1] = stage with { Compensation = compensation, CompensationRetry = retry };
        return Self;
    }

    /// <summary>
    /// Gives the stage just added a transactional compensation: it runs inside a transaction of the store's own database
    /// (SQLite or PostgreSQL), and the checkpoint that records it done commits in that same transaction, so its writes to
    /// the application's tables in that database happen exactly once, even when the process dies while it runs. Otherwise
    /// it behaves as <see cref="CompensateWith(Func{StageContext{TState}, CancellationToken, Task}, RetryPolicy?)"/>: a
    /// failed try rolls back its writes and is retried by <paramref name="retry"/>.
    /// </summary>
    /// <param name="compensation">
    /// Undoes the stage's effects through the transaction's <see cref="DbTransaction.Connection"/>, with the transaction set
    /// on every command. Do not commit or roll it back; throw to roll it back.
    /// </param>
    /// <param name="retry">How a failed compensation is retried, in the same attempt. Default <see cref="RetryPolicy.Default"/>.</param>
    /// <exception cref="InvalidOperationException">The step just added is not a stage, or already has a compensation.</exception>
    public TSelf CompensateInTransaction(Func<StageContext<TState>, DbTransaction, CancellationToken, Task> compensation, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(compensation);
        var stage = StageToCompensate(retry);
        Steps[^1] = stage with { CompensationInTransaction = compensation, CompensationRetry = retry };
        return Self;
    }

    private StageStep<TState> StageToCompensate(RetryPolicy? retry)
    {
        if (Steps.Count == 0 || Steps[^1] is not StageStep<TState> stage)
        {
            throw new InvalidOperationException("A compensation follows the stage it compensates: add a stage first.");
        }

        if (stage.HasCompensation)
        {
            throw new InvalidOperationException($"Stage '{stage.Name}' already has a compensation.");
        }

        if (retry?.FindProblem() is { } problem)
        {
            throw new ArgumentException($"The retry policy of the compensation of stage '{stage.Name}' is invalid: {problem}", nameof(retry));
        }

        return stage;
    }

    /// <summary>Adds a recovery point: passing it saves the state and the position, and a failed run resumes after it.</summary>
    /// <param name="name">The recovery point's name, unique in the flow.</param>
    /// <param name="statusMessage">A short text shown in the status list once the point is passed ("SELECT successful").</param>
    public TSelf RecoveryPoint(string name, string? statusMessage = null)
    {
        Steps.Add(new RecoveryPointStep(name, statusMessage));
        return Self;
    }

    /// <summary>
    /// Adds a loop over a collection in the state: the body runs once per item, in order. A stage in the body finds its
    /// item with <see cref="StageContext{TState}.Item{TItem}"/> and its index with <see cref="StageContext{TState}.Iteration"/>.
    /// The collection is read from the state before each iteration. A run resumed from a recovery point in the body
    /// continues that iteration; completed iterations never run again.
    /// </summary>
    /// <param name="name">The loop's name, unique in the flow.</param>
    /// <param name="items">The collection in the state (null counts as empty).</param>
    /// <param name="body">The body's steps.</param>
    public TSelf ForEach<TItem>(string name, Func<TState, IReadOnlyList<TItem>?> items, Action<FlowBody<TState>> body)
    {
        ArgumentNullException.ThrowIfNull(items);
        Steps.Add(new LoopStep<TState>(name, LoopKind.ForEach, state => items(state)?.Count ?? 0, (state, i) => items(state)![i], null, Build(body)));
        return Self;
    }

    /// <summary>Adds a loop that runs its body while <paramref name="condition"/> holds, checked before each iteration.</summary>
    /// <param name="name">The loop's name, unique in the flow.</param>
    /// <param name="condition">Read from the state before each iteration.</param>
    /// <param name="body">The body's steps.</param>
    public TSelf While(string name, Func<TState, bool> condition, Action<FlowBody<TState>> body)
    {
        ArgumentNullException.ThrowIfNull(condition);
        Steps.Add(new LoopStep<TState>(name, LoopKind.While, null, null, condition, Build(body)));
        return Self;
    }

    /// <summary>
    /// Adds a loop that runs its body until <paramref name="condition"/> holds, checked after each iteration: the body
    /// runs at least once.
    /// </summary>
    /// <param name="name">The loop's name, unique in the flow.</param>
    /// <param name="condition">Read from the state after each iteration.</param>
    /// <param name="body">The body's steps.</param>
    public TSelf Until(string name, Func<TState, bool> condition, Action<FlowBody<TState>> body)
    {
        ArgumentNullException.ThrowIfNull(condition);
        Steps.Add(new LoopStep<TState>(name, LoopKind.Until, null, null, condition, Build(body)));
        return Self;
    }

    /// <summary>
    /// Adds a branch: <paramref name="then"/> when <paramref name="condition"/> holds, else <paramref name="otherwise"/>
    /// (or nothing). The path taken is part of the checkpointed position: a run resumed inside it stays on it.
    /// </summary>
    /// <param name="name">The branch's name, unique in the flow.</param>
    /// <param name="condition">Read from the state when the run reaches the branch.</param>
    /// <param name="then">The steps when the condition holds.</param>
    /// <param name="otherwise">The steps when it does not; null for none.</param>
    public TSelf If(string name, Func<TState, bool> condition, Action<FlowBody<TState>> then, Action<FlowBody<TState>>? otherwise = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var paths = new List<IReadOnlyList<FlowStep>> { Build(then) };
        if (otherwise is not null)
        {
            paths.Add(Build(otherwise));
        }

        var hasElse = otherwise is not null;
        Steps.Add(new BranchStep<TState>(name, state => condition(state) ? 0 : hasElse ? 1 : -1, hasElse ? ["then", "else"] : ["then"], paths));
        return Self;
    }

    /// <summary>
    /// Adds a branch with one path per value of <paramref name="selector"/>, and optionally a default path. The path taken
    /// is part of the checkpointed position: a run resumed inside it stays on it.
    /// </summary>
    /// <param name="name">The branch's name, unique in the flow.</param>
    /// <param name="selector">Read from the state when the run reaches the branch; compared with the cases' values.</param>
    /// <param name="cases">The cases: <c>cases.Case(value, body => ...)</c>, <c>cases.Default(body => ...)</c>.</param>
    public TSelf Switch<TKey>(string name, Func<TState, TKey> selector, Action<FlowSwitch<TState, TKey>> cases)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(cases);
        var builder = new FlowSwitch<TState, TKey>();
        cases(builder);
        var keys = builder.Keys;
        var hasDefault = builder.DefaultPath is not null;
        var paths = new List<IReadOnlyList<FlowStep>>(builder.Paths);
        var labels = keys.Select(k => $"case {k}").ToList();
        if (builder.DefaultPath is { } defaultPath)
        {
            paths.Add(defaultPath);
            labels.Add("default");
        }

        var comparer = EqualityComparer<TKey>.Default;
        Steps.Add(new BranchStep<TState>(
            name,
            state =>
            {
                var value = selector(state);
                var index = keys.FindIndex(k => comparer.Equals(k, value));
                return index >= 0 ? index : hasDefault ? keys.Count : -1;
            },
            labels,
            paths)
        {
            DuplicateCases = [.. keys.GroupBy(k => k, comparer!).Where(g => g.Count() > 1).Select(g => $"{g.Key}")],
        });
        return Self;
    }

    /// <summary>
    /// Adds named branches that run concurrently, each on its own slice of the state and with its own recovery points,
    /// then an explicit merge that joins the slices into the state. After a crash each unfinished branch resumes from its
    /// own last recovery point, and finished branches never run again. When a branch fails, the others are cancelled or
    /// finish (<paramref name="onFailure"/>), and the run fails or retries as a whole.
    /// </summary>
    /// <typeparam name="TSlice">The type of the branches' slices.</typeparam>
    /// <param name="name">The step's name, unique in the flow.</param>
    /// <param name="branches">The branches: <c>p.Branch("ledger", state => slice, body => ...)</c>.</param>
    /// <param name="merge">Joins the finished slices, by branch name, into the state.</param>
    /// <param name="onFailure">What the other branches do when one fails. Default: they are cancelled.</param>
    public TSelf Parallel<TSlice>(
        string name, Action<FlowParallel<TState, TSlice>> branches, Action<TState, IReadOnlyDictionary<string, TSlice>> merge,
        ParallelFailure onFailure = ParallelFailure.CancelOthers)
    {
        ArgumentNullException.ThrowIfNull(branches);
        ArgumentNullException.ThrowIfNull(merge);
        var builder = new FlowParallel<TState, TSlice>();
        branches(builder);
        Steps.Add(new ParallelStep<TState, TSlice>(
            name,
            builder.Branches,
            null,
            (state, slices) => merge(state, slices.ToDictionary(s => s.Branch, s => s.Slice, StringComparer.Ordinal)),
            Math.Max(1, builder.Branches.Count),
            onFailure));
        return Self;
    }

    /// <summary>
    /// Adds a fan-out: one branch per item of a collection in the state, all running <paramref name="body"/> on their own
    /// slice, at most <paramref name="maxConcurrency"/> at once, then a merge of the slices in item order. A stage finds
    /// its item with <see cref="StageContext{TState}.Item{TItem}"/> and its index with
    /// <see cref="StageContext{TState}.Iteration"/>. The items are counted when the step starts; after a crash each
    /// unfinished item resumes from its own last recovery point and finished items never run again.
    /// </summary>
    /// <typeparam name="TItem">The collection's item type.</typeparam>
    /// <typeparam name="TSlice">The type of the branches' slices.</typeparam>
    /// <param name="name">The step's name, unique in the flow.</param>
    /// <param name="items">The collection in the state (null counts as empty).</param>
    /// <param name="slice">Each item's slice when its branch starts.</param>
    /// <param name="body">The steps each item's branch runs.</param>
    /// <param name="merge">Joins the finished slices, in item order, into the state.</param>
    /// <param name="maxConcurrency">How many items run at once. Default 4.</param>
    /// <param name="onFailure">What the other items do when one fails. Default: they are cancelled.</param>
    public TSelf ForEachParallel<TItem, TSlice>(
        string name, Func<TState, IReadOnlyList<TItem>?> items, Func<TState, TItem, TSlice> slice, Action<FlowBody<TSlice>> body,
        Action<TState, IReadOnlyList<TSlice>> merge, int maxConcurrency = 4, ParallelFailure onFailure = ParallelFailure.CancelOthers)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(slice);
        ArgumentNullException.ThrowIfNull(merge);
        var fanOut = new ParallelFanOut<TState, TSlice>(
            state => items(state)?.Count ?? 0,
            (state, i) => items(state)![i],
            (state, i) => slice(state, items(state)![i]),
            StepsBuilder<TSlice, FlowBody<TSlice>>.Build(body));
        Steps.Add(new ParallelStep<TState, TSlice>(name, null, fanOut, (state, slices) => merge(state, [.. slices.Select(s => s.Slice)]), maxConcurrency, onFailure));
        return Self;
    }

    /// <summary>
    /// Adds another flow inline, as one step of this one: its stages run in this run, on its own state made from this
    /// flow's state by <paramref name="input"/>; when it ends, <paramref name="output"/> takes its result back into this
    /// flow's state. Its recovery points save the whole stack — this flow's state and position, the sub-flow's state and
    /// position — so a run resumed inside it continues there. The sub-flow's own retry policy and version are not used.
    /// </summary>
    /// <typeparam name="TChild">The sub-flow's state type.</typeparam>
    /// <param name="name">The step's name, unique in the flow.</param>
    /// <param name="flow">The sub-flow. Its step names need not be unique against this flow's.</param>
    /// <param name="input">The sub-flow's input, from this flow's state.</param>
    /// <param name="output">Takes the sub-flow's final state back into this flow's state.</param>
    public TSelf SubFlow<TChild>(string name, Flow<TChild> flow, Func<TState, TChild> input, Action<TState, TChild> output)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Steps.Add(new ParallelStep<TState, TChild>(
            name,
            [new ParallelBranch<TState, TChild>(flow.Name, input, flow.Steps)],
            null,
            (state, results) => output(state, results[0].Slice),
            1,
            ParallelFailure.CancelOthers)
        {
            SubFlow = flow.ToString(),
        });
        return Self;
    }

    /// <summary>
    /// Adds a detached sub-flow: the child flow runs as a run of its own (its own recovery points and retries, on any
    /// node), with a link to this run, which waits for it durably without holding a slot: a crash of either side loses
    /// nothing. Its outcome, completed or not, reaches <paramref name="onFinished"/>, which takes its result into this
    /// flow's state or handles its failure; without a handler, a child that failed or was cancelled fails this run. The
    /// child's recovery ID is <c>PARENT-RUN-ID:STEP</c> (with the loop iterations around the step), so a parent that
    /// runs the step again finds its child instead of starting another.
    /// </summary>
    /// <typeparam name="TChild">The child flow's state type.</typeparam>
    /// <param name="name">The step's name, unique in the flow.</param>
    /// <param name="flow">The child flow, registered with every engine that registers this one.</param>
    /// <param name="input">The child's input, from this flow's state.</param>
    /// <param name="onFinished">What to do with the child's outcome; null to take nothing back and fail if the child did not complete.</param>
    public TSelf DetachedSubFlow<TChild>(string name, Flow<TChild> flow, Func<TState, TChild> input, Action<TState, RunOutcome<TChild>>? onFinished = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(input);
        Steps.Add(new ChildRunStep<TState, TChild>(name, flow, input, onFinished));
        return Self;
    }

    internal static List<FlowStep> Build(Action<FlowBody<TState>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var builder = new FlowBody<TState>();
        body(builder);
        return builder.Steps;
    }
}
