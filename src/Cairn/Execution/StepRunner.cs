using System.Diagnostics;

namespace Cairn.Execution;

/// <summary>What every sequence of one attempt shares: the engine context, the run, and how stages learn where they are.</summary>
/// <param name="Context">What execution needs of the engine.</param>
/// <param name="Run">The run as claimed.</param>
/// <param name="Flow">The definition the attempt runs, for messages: <c>order-import v3</c>.</param>
/// <param name="Recovery">What stages may ask about the attempt.</param>
/// <param name="Lease">The attempt's lease: what fences its writes.</param>
/// <param name="Compensations">The stages with a compensation the run has completed.</param>
/// <param name="Streams">The run's named streams as the attempt changes them.</param>
internal sealed record AttemptScope(
    EngineContext Context, Storage.RunRecord Run, FlowDefinition Flow, RecoveryInfo Recovery, RunLease Lease, CompensationLog Compensations,
    AttemptStreams Streams);

/// <summary>The engine stopped the attempt before a stage; the run is left to resume from its last recovery point.</summary>
internal sealed class AttemptStoppedException(string stage) : Exception($"stopped before stage '{stage}'")
{
    public string Stage { get; } = stage;
}

/// <summary>
/// Runs the steps of one sequence and those nested in it (loops, branches, parallel steps) over a state of type
/// <typeparamref name="TS"/>: the flow's state, or a parallel branch's slice. Recovery points are handed to a save
/// function, which writes the checkpoint the way the sequence's place in the run needs.
/// </summary>
/// <param name="scope">The attempt.</param>
/// <param name="state">The state the steps start from.</param>
/// <param name="save">Saves a checkpoint at a recovery point: its position in this sequence, the state, the status
/// message, and what commits with it (<see cref="SaveExtras"/>).</param>
/// <param name="saveRaw">Saves what a step nested here already serialized (a parallel step's envelope, a parent
/// waiting for its child): label, position in this sequence, status message, bytes, what commits with it.</param>
/// <param name="whereSuffix">Added to every place named in messages: <c> in branch 'x' of parallel 'y'</c>.</param>
/// <param name="outerIterations">Iterations that stages see before their own loops' (a fan-out branch's item index).</param>
/// <param name="outerItem">The current item stages see outside their own ForEach loops (a fan-out branch's item).</param>
internal sealed partial class StepRunner<TS>(
    AttemptScope scope, TS state, Func<RecoveryPointStep, FlowPath, TS, string?, SaveExtras, CancellationToken, Task> save,
    Func<string, FlowPath, string?, byte[], SaveExtras, CancellationToken, Task> saveRaw, string whereSuffix = "",
    IReadOnlyList<int>? outerIterations = null, Func<object?>? outerItem = null)
{
    private readonly List<StageOutbox.PendingMessage> _outbox = [];
    private readonly IReadOnlyList<int> _outerIterations = outerIterations ?? [];
    private readonly List<(LoopStep<TS> Loop, int Iteration)> _loops = [];
    private string? _statusMessage;

    /// <summary>The state, changed by the stages.</summary>
    public TS State { get; set; } = state;

    /// <summary>Where the runner is, for the message of a failure: <c>in stage 'load' (iteration 3)</c>.</summary>
    public string Where { get; set; } = $"while restoring its state{whereSuffix}";

    public AttemptScope Scope { get; } = scope;

    /// <summary>What every place named in messages ends with: where this sequence is nested.</summary>
    public string WhereSuffix { get; } = whereSuffix;

    /// <summary>Saves what a step nested in this sequence serialized itself: label, position, status message, bytes, extras.</summary>
    public Func<string, FlowPath, string?, byte[], SaveExtras, CancellationToken, Task> SaveRaw { get; } = saveRaw;

    /// <summary>Takes the outbox messages the stages of this sequence added since the last save, for the next one.</summary>
    public IReadOnlyList<StageOutbox.PendingMessage> TakeOutbox()
    {
        if (_outbox.Count == 0)
        {
            return [];
        }

        var messages = _outbox.ToArray();
        _outbox.Clear();
        return messages;
    }

    /// <summary>Why the stages of this sequence may only open streams (inside a parallel branch); null when they may change them.</summary>
    public string? StreamsReadOnlyBecause { get; init; }

    /// <summary>The envelope of the parallel step (or inline sub-flow) in this sequence that a resumed attempt continues inside; taken by that step.</summary>
    public ParallelEnvelope? PendingResume { get; set; }

    /// <summary>
    /// Runs a sequence that is not inside a step of this runner (the flow's, or a parallel branch's body), from its start
    /// or from just after the recovery point <paramref name="resumeAt"/> leads to.
    /// </summary>
    /// <param name="steps">The sequence.</param>
    /// <param name="resumeAt">Where the checkpoint is in the sequence; <see cref="FlowPath.Start"/> to run it from its start.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <exception cref="AttemptStoppedException">The engine is stopping.</exception>
    public Task ExecuteAsync(IReadOnlyList<FlowStep> steps, FlowPath resumeAt, CancellationToken cancellationToken) =>
        ExecuteSequenceAsync(steps, new SequenceAt(FlowPath.Start, null), resumeAt, cancellationToken);

    /// <summary>
    /// Runs a sequence (the flow's, a loop body's, a branch path's) from its start or, when <paramref name="resumeAt"/> is
    /// set, from just after the recovery point it leads to.
    /// </summary>
    /// <param name="steps">The sequence.</param>
    /// <param name="at">Where the sequence is, so that its steps' positions can be made when needed.</param>
    /// <param name="resumeAt">Where the checkpoint is, relative to this sequence: a step index, or an index, a lane and
    /// the rest of the path inside that step; empty to run the sequence from its start.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    private async Task ExecuteSequenceAsync(IReadOnlyList<FlowStep> steps, SequenceAt at, FlowPath resumeAt, CancellationToken cancellationToken)
    {
        var start = 0;
        if (resumeAt is [var pointIndex])
        {
            start = pointIndex + 1;
        }
        else if (resumeAt is [var index, ..])
        {
            await ExecuteCompositeAsync((CompositeStep)steps[index], at.StepAt(index), resumeAt[1..], cancellationToken).ConfigureAwait(false);
            start = index + 1;
        }

        for (var i = start; i < steps.Count; i++)
        {
            switch (steps[i])
            {
                case StageStep<TS> { InTransaction: not null } stage:
                    // Validated when the flow was built: the next step is the recovery point that commits the transaction.
                    await ExecuteTransactionalStageAsync(stage, (RecoveryPointStep)steps[i + 1], at.StepAt(i + 1), cancellationToken).ConfigureAwait(false);
                    i++;
                    break;
                case StageStep<TS> { DataSource: not null } stage:
                    await ExecuteDataSourceStageAsync(stage, cancellationToken).ConfigureAwait(false);
                    break;
                case StageStep<TS> stage:
                    await ExecuteStageAsync(stage, null, cancellationToken).ConfigureAwait(false);
                    break;
                case RecoveryPointStep point:
                    await SaveAtAsync(point, at.StepAt(i), null, cancellationToken).ConfigureAwait(false);
                    break;
                case CompositeStep composite:
                    await ExecuteCompositeAsync(composite, at.StepAt(i), FlowPath.Start, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown step '{steps[i].Name}'.");
            }
        }
    }

    /// <param name="step">The loop, branch or parallel step.</param>
    /// <param name="position">The step's position.</param>
    /// <param name="resumeAt">Empty to enter the step afresh; else the lane (iteration, path, or -1 for a parallel step)
    /// and the path inside it.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    private async Task ExecuteCompositeAsync(CompositeStep step, FlowPath position, FlowPath resumeAt, CancellationToken cancellationToken)
    {
        var resumed = !resumeAt.IsStart;
        switch (step)
        {
            case LoopStep<TS> loop:
                var iteration = resumed ? resumeAt[0] : 0;
                var inBody = resumed ? resumeAt[1..] : FlowPath.Start;
                while (true)
                {
                    // A resumed iteration is finished first: whether it runs was decided before the checkpoint.
                    Where = $"in loop '{loop.Name}' before iteration {iteration}{WhereSuffix}";
                    if (!resumed && !loop.RunsIteration(State, iteration))
                    {
                        return;
                    }

                    _loops.Add((loop, iteration));
                    await ExecuteSequenceAsync(loop.Body, new SequenceAt(position, iteration), inBody, cancellationToken).ConfigureAwait(false);
                    _loops.RemoveAt(_loops.Count - 1);
                    resumed = false;
                    inBody = FlowPath.Start;
                    iteration++;
                }

            case BranchStep<TS> branch:
                Where = $"in branch '{branch.Name}'{WhereSuffix}";
                var lane = resumed ? resumeAt[0] : branch.Choose(State);
                if (lane < 0)
                {
                    return;
                }

                await ExecuteSequenceAsync(branch.Paths[lane], new SequenceAt(position, lane), resumed ? resumeAt[1..] : FlowPath.Start, cancellationToken).ConfigureAwait(false);
                return;

            case ChildRunStep<TS> childRun:
                await childRun.RunWith(new Executor(this, position, resumeAt is [ChildRunStep<TS>.Lane], null, cancellationToken)).ConfigureAwait(false);
                return;

            case WaitStep<TS> wait:
                await ExecuteWaitAsync(wait, position, resumeAt, cancellationToken).ConfigureAwait(false);
                return;

            case ParallelStep<TS> parallel:
                var resume = resumeAt is [ParallelStep<TS>.Lane] ? PendingResume : null;
                PendingResume = null;
                await parallel.RunWith(new Executor(this, position, resume is not null, resume, cancellationToken)).ConfigureAwait(false);
                return;

            default:
                throw new InvalidOperationException($"Unknown step '{step.Name}'.");
        }
    }

    private async Task SaveAtAsync(RecoveryPointStep point, FlowPath position, StageTransaction? transaction, CancellationToken cancellationToken)
    {
        Where = $"at recovery point '{point.Name}'{WhereSuffix}";
        await save(point, position, State, _statusMessage ?? point.StatusMessage, new SaveExtras(TakeOutbox(), transaction), cancellationToken).ConfigureAwait(false);
        Scope.Context.Options.AttemptObserver?.AfterCheckpoint(Scope, point.Name, Iterations, WhereSuffix);
        _statusMessage = null;
    }

    /// <summary>
    /// Runs a transactional stage in a transaction of the store's database and commits it with the checkpoint of the
    /// recovery point after it: both or neither. A failure before the commit rolls back the stage's writes.
    /// </summary>
    private async Task ExecuteTransactionalStageAsync(StageStep<TS> stage, RecoveryPointStep point, FlowPath position, CancellationToken cancellationToken)
    {
        if (Scope.Context.Host.IsStopping)
        {
            throw new AttemptStoppedException(stage.Name);
        }

        var store = (ITransactionalRunStore)Scope.Context.Store; // Checked when the engine was built.
        Where = $"while opening the transaction of stage '{stage.Name}'{WhereSuffix}";
        await using var transaction = await store.BeginStageTransactionAsync(Scope.Lease, cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteStageAsync(stage, transaction, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The stage's commands run on the store's connection: if it was lost under them, the store failed, not the stage.
            if (transaction.LostConnection(ex) is { } unavailable)
            {
                throw unavailable;
            }

            throw;
        }

        await SaveAtAsync(point, position, transaction, cancellationToken).ConfigureAwait(false);
    }

    private async Task ExecuteStageAsync(StageStep<TS> stage, StageTransaction? transaction, CancellationToken cancellationToken)
    {
        var iterations = EnterStage(stage);
        var context = await InvokeStageAsync(
            stage,
            iterations,
            context => transaction is null
                ? stage.Execute!(context, cancellationToken)
                : stage.InTransaction!(context, transaction.Transaction, cancellationToken)).ConfigureAwait(false);
        FinishStage(stage, iterations, context.State, context.StatusMessage);
    }

    /// <summary>Checks that the engine is not stopping and says where the runner is; returns the stage's iterations.</summary>
    private List<int> EnterStage(StageStep<TS> stage)
    {
        if (Scope.Context.Host.IsStopping)
        {
            throw new AttemptStoppedException(stage.Name);
        }

        var iterations = Iterations;
        Where = iterations.Count == 0
            ? $"in stage '{stage.Name}'{WhereSuffix}"
            : $"in stage '{stage.Name}' (iteration {string.Join('/', iterations)}){WhereSuffix}";
        return iterations;
    }

    /// <summary>Runs a stage's work on a new context in its activity; a stage that fails takes back the messages it added.</summary>
    private async Task<StageContext<TS>> InvokeStageAsync(StageStep<TS> stage, List<int> iterations, Func<StageContext<TS>, Task> work)
    {
        var run = Scope.Run;
        var added = _outbox.Count;
        var streams = Scope.Streams.Take();
        var context = new StageContext<TS>(
            State, run.Id, run.RecoveryId, Scope.Flow.Name, stage.Name, Scope.Recovery, iterations, CurrentItem(), new StageOutbox(_outbox),
            Scope.Streams, StreamsReadOnlyBecause);
        using var activity = StartActivity(Telemetry.StageActivity, stage.Name, Telemetry.StageTag);
        try
        {
            Scope.Context.Options.AttemptObserver?.BeforeStage(Scope, stage.Name, iterations, WhereSuffix);
            await work(context).ConfigureAwait(false);
        }
        catch
        {
            // A failed stage sends nothing and keeps no stream: it adds and puts them again when it runs again.
            _outbox.RemoveRange(added, _outbox.Count - added);
            Scope.Streams.Restore(streams);
            throw;
        }

        activity?.SetStatus(ActivityStatusCode.Ok);
        return context;
    }

    /// <summary>Takes in what a stage that completed produced: its state, its status message, its place in the compensation log.</summary>
    private void FinishStage(StageStep<TS> stage, List<int> iterations, TS state, string? statusMessage)
    {
        State = state;
        _statusMessage = statusMessage ?? _statusMessage;
        if (stage.HasCompensation)
        {
            Scope.Compensations.Record(stage.Name, iterations);
        }
    }

    /// <summary>The iterations of the loops (and fan-out branches) around the current step, outermost first.</summary>
    public List<int> Iterations => [.. _outerIterations, .. _loops.Select(l => l.Iteration)];

    /// <summary>Reads the current item of the innermost ForEach loop (or fan-out branch) the current step is in.</summary>
    public Func<object?>? CurrentItem()
    {
        for (var i = _loops.Count - 1; i >= 0; i--)
        {
            var (loop, iteration) = _loops[i];
            if (loop.ItemAt is { } itemAt)
            {
                return () => itemAt(State, iteration);
            }
        }

        return outerItem;
    }

    /// <summary>Starts a stage or checkpoint activity with its tags set at creation, so listeners see them when it starts.</summary>
    public Activity? StartActivity(string operation, string name, string nameTag) =>
        Telemetry.StartRunActivity(operation, name, nameTag, Scope.Flow.Name, Scope.Run.Id, Scope.Run.Attempt);

    /// <summary>Runs a step whose parts have types of their own, once the step handed them over.</summary>
    /// <param name="Host">The runner of the sequence the step is in.</param>
    /// <param name="Position">The step's position.</param>
    /// <param name="Resumed">Whether the attempt resumes inside (or waiting at) the step.</param>
    /// <param name="Resume">The envelope a parallel step resumes from.</param>
    /// <param name="CancellationToken">Cancels the attempt.</param>
    private sealed record Executor(StepRunner<TS> Host, FlowPath Position, bool Resumed, ParallelEnvelope? Resume, CancellationToken CancellationToken)
        : IStepExecutor<TS>
    {
        public Task RunParallelAsync<TSlice>(ParallelStep<TS, TSlice> step) =>
            new ParallelRunner<TS, TSlice>(step, Host, Position).RunAsync(Resume, CancellationToken);

        public Task RunChildRunAsync<TChild>(ChildRunStep<TS, TChild> step) =>
            ChildRunRunner.RunAsync(step, Host, Position, Resumed, CancellationToken);
    }

    /// <summary>
    /// Where a sequence is: a lane of the composite step at <paramref name="Owner"/>, or (without a lane) a sequence of
    /// its own. Its steps' positions are made only where one is needed (a recovery point, a composite step), so that
    /// stages and loop iterations allocate none.
    /// </summary>
    private readonly record struct SequenceAt(FlowPath Owner, int? Lane)
    {
        public FlowPath StepAt(int index) => Lane is { } lane ? Owner.Append(lane, index) : Owner.Append(index);
    }
}
