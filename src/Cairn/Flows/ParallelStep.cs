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

    /// <summary>Runs the step: the branches not finished yet (all of them unless <paramref name="resume"/> is set), then the merge.</summary>
    /// <param name="host">The runner of the sequence the step is in; its state is the flow's state.</param>
    /// <param name="position">The step's position.</param>
    /// <param name="resume">The envelope of the checkpoint the attempt resumed from, when it is inside this step.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    public abstract Task ExecuteAsync(StepRunner<TState> host, int[] position, ParallelEnvelope? resume, CancellationToken cancellationToken);
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

    public override async Task ExecuteAsync(StepRunner<TState> host, int[] position, ParallelEnvelope? resume, CancellationToken cancellationToken)
    {
        var scope = host.Scope;
        var envelope = resume ?? Fork(host);
        if (envelope.Branches.Count != BranchCount(host.State))
        {
            throw new FlowChangedException(
                $"Run {scope.Run.Id} cannot resume inside parallel '{Name}': its checkpoint has {envelope.Branches.Count} branch(es) and {scope.Flow} has " +
                $"{BranchCount(host.State)}. Its checkpoint is kept; re-run it after deciding what to do.");
        }

        using var stopOthers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(MaxConcurrency, MaxConcurrency);
        using var saving = new SemaphoreSlim(1, 1);
        var results = new TSlice[envelope.Branches.Count];
        var failures = new List<(string Where, Exception Error)>();
        var tasks = new List<Task>();
        for (var i = 0; i < envelope.Branches.Count; i++)
        {
            var index = i;
            var frame = envelope.Branches[index];
            if (frame.Status == BranchStatus.Finished)
            {
                results[index] = ReadSlice(host, frame.Name, frame.Slice);
                continue;
            }

            tasks.Add(Task.Run(
                async () =>
                {
                    var runner = CreateRunner(host, position, envelope, index, saving);
                    try
                    {
                        await slots.WaitAsync(stopOthers.Token).ConfigureAwait(false);
                        try
                        {
                            var resumeAt = Resume(host, runner, frame, BranchBody(index));
                            await runner.ExecuteSequenceAsync(BranchBody(index), [], resumeAt, stopOthers.Token).ConfigureAwait(false);
                        }
                        finally
                        {
                            slots.Release();
                        }

                        results[index] = runner.State;
                        await SaveFrameAsync(
                            host, position, envelope, saving, index, BranchStatus.Finished, "", SerializeSlice(host, frame, runner.State, $"{Name}/{frame.Name}"),
                            $"{Name}/{frame.Name}", $"branch '{frame.Name}' finished", stopOthers.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        lock (failures)
                        {
                            failures.Add((runner.Where, ex));
                        }

                        // A branch waiting for a detached child is no failure: the others go on until they finish or wait too.
                        if (ex is not WaitingForChildRunException && (OnFailure == ParallelFailure.CancelOthers || ex is AttemptStoppedException))
                        {
                            await stopOthers.CancelAsync().ConfigureAwait(false);
                        }
                    }
                },
                CancellationToken.None));
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            // The first real error: branches cancelled because of it only report their cancellation, and branches waiting
            // for a detached child only make the run wait once no branch failed.
            var (where, error) = failures
                .OrderBy(f => f.Error is WaitingForChildRunException ? 2 : f.Error is OperationCanceledException && !cancellationToken.IsCancellationRequested ? 1 : 0)
                .First();
            host.Where = where;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }

        host.Where = SubFlow is null ? $"in the merge of parallel '{Name}'" : $"in the output of sub-flow '{Name}'";
        Merge(host.State, [.. envelope.Branches.Select((b, i) => (b.Name, results[i]))]);
    }

    private int BranchCount(TState state) => Branches?.Count ?? FanOut!.Count(state);

    private IReadOnlyList<FlowStep> BranchBody(int branch) => Branches is not null ? Branches[branch].Body : FanOut!.Body;

    /// <summary>The envelope when the step starts: the flow's state, and each branch's first slice.</summary>
    private ParallelEnvelope Fork(StepRunner<TState> host)
    {
        var engine = host.Scope.Context;
        var state = host.State;
        var what = $"Flow {host.Scope.Flow} could not start parallel '{Name}' for run {host.Scope.Run.Id}";
        var branches = Branches is not null
            ? Branches.Select(b => new BranchFrame { Name = b.Name, Slice = engine.Codec.Serialize(b.Slice(state), $"{what}: the slice of branch '{b.Name}'", "") })
            : Enumerable.Range(0, FanOut!.Count(state)).Select(i => new BranchFrame
            {
                Name = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Slice = engine.Codec.Serialize(FanOut.Slice(state, i), $"{what}: the slice of item {i}", ""),
            });
        return new ParallelEnvelope { Parallel = Name, State = engine.Codec.Serialize(state, $"{what}: the state", ""), Branches = [.. branches] };
    }

    /// <summary>
    /// Restores a branch's slice into its runner and returns where in the branch's body to resume: after its last
    /// recovery point, inside a parallel step or sub-flow nested in it (whose envelope the frame then holds), or from
    /// the start.
    /// </summary>
    private int[]? Resume(StepRunner<TState> host, StepRunner<TSlice> runner, BranchFrame frame, IReadOnlyList<FlowStep> body)
    {
        if (frame.Position.Length == 0)
        {
            runner.State = ReadSlice(host, frame.Name, frame.Slice);
            return null;
        }

        var path = FlowPositions.Parse(frame.Position);
        var nested = path is [.., Lane];
        var (leadsThere, what) = path switch
        {
            [.., Lane] => (FlowPositions.IsStepAt(body, path[..^1], step => step is ParallelStep<TSlice>), "a parallel step or sub-flow"),
            [.., ChildRunStep<TSlice>.Lane] => (FlowPositions.IsStepAt(body, path[..^1], step => step is ChildRunStep<TSlice>), "a detached sub-flow"),
            _ => (path.Length % 2 == 1 && FlowPositions.IsStepAt(body, path, step => step is RecoveryPointStep), "a recovery point"),
        };
        if (!leadsThere)
        {
            throw new FlowChangedException(
                $"Run {host.Scope.Run.Id} cannot resume branch '{frame.Name}' of {Kind} '{Name}': its position '{frame.Position}' no longer leads to " +
                $"{what} in {host.Scope.Flow}. Its checkpoint is kept; re-run it after deciding what to do.");
        }

        if (!nested)
        {
            runner.State = ReadSlice(host, frame.Name, frame.Slice);
            return path;
        }

        ParallelEnvelope inner;
        try
        {
            inner = ParallelEnvelope.Read(frame.Slice);
        }
        catch (FormatException ex)
        {
            throw new CheckpointCorruptedException($"The saved progress of branch '{frame.Name}' of {Kind} '{Name}' (run {host.Scope.Run.Id}) cannot be read: {ex.Message}. It is kept unchanged for inspection.");
        }

        runner.State = ReadSlice(host, frame.Name, inner.State);
        runner.PendingResume = inner;
        return path;
    }

    private StepRunner<TSlice> CreateRunner(StepRunner<TState> host, int[] position, ParallelEnvelope envelope, int index, SemaphoreSlim saving)
    {
        var frame = envelope.Branches[index];
        return new StepRunner<TSlice>(
            host.Scope,
            default!,
            (point, at, slice, statusMessage, ct) => SaveFrameAsync(
                host, position, envelope, saving, index, BranchStatus.InProgress, FlowPositions.Format(at), SerializeSlice(host, frame, slice, point.Name),
                point.Name, statusMessage, ct),

            // A parallel step or sub-flow nested in the branch (its envelope), or the branch's state where it waits for a
            // detached child: it becomes the branch's saved progress.
            (label, at, statusMessage, bytes, ct) => SaveFrameAsync(
                host, position, envelope, saving, index, BranchStatus.InProgress, at.ToString(), bytes, label, statusMessage, ct),
            whereSuffix: (SubFlow is not null ? $" in sub-flow '{Name}' ({SubFlow})"
                : Branches is not null ? $" in branch '{frame.Name}' of parallel '{Name}'"
                : $" in item {index} of parallel '{Name}'") + host.WhereSuffix,
            outerIterations: Branches is null ? [.. host.Iterations, index] : host.Iterations,
            outerItem: Branches is null ? () => FanOut!.ItemAt(host.State, index) : host.CurrentItem());
    }

    private static byte[] SerializeSlice(StepRunner<TState> host, BranchFrame frame, TSlice slice, string label) =>
        host.Scope.Context.Codec.Serialize(
            slice, $"Flow {host.Scope.Flow} could not save '{label}' for run {host.Scope.Run.Id}: the slice of branch '{frame.Name}'", " The run stays resumable from its previous checkpoint.");

    /// <summary>
    /// Records a branch's progress in the envelope and saves the whole envelope through the sequence the step is in: as
    /// the run's newest checkpoint, or, when the step is itself nested in a branch, as that branch's progress.
    /// </summary>
    private static async Task SaveFrameAsync(
        StepRunner<TState> host, int[] position, ParallelEnvelope envelope, SemaphoreSlim saving, int index, BranchStatus status, string at, byte[] bytes,
        string label, string? statusMessage, CancellationToken cancellationToken)
    {
        var frame = envelope.Branches[index];
        await saving.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            frame.Status = status;
            frame.Position = at;
            frame.Slice = bytes;
            await host.SaveRaw(label, FlowPath.Of([.. position, Lane]), statusMessage, envelope.ToBytes(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            saving.Release();
        }
    }

    private static TSlice ReadSlice(StepRunner<TState> host, string branch, byte[] slice) =>
        host.Scope.Context.Codec.Deserialize<TSlice>(slice, $"The slice of branch '{branch}' of run {host.Scope.Run.Id} ({host.Scope.Flow})");
}

/// <summary>A named branch of a parallel step.</summary>
internal sealed record ParallelBranch<TState, TSlice>(string Name, Func<TState, TSlice> Slice, IReadOnlyList<FlowStep> Body);

/// <summary>A fan-out: one branch per item of a collection in the state, all running the same body.</summary>
internal sealed record ParallelFanOut<TState, TSlice>(
    Func<TState, int> Count, Func<TState, int, object?> ItemAt, Func<TState, int, TSlice> Slice, IReadOnlyList<FlowStep> Body);
