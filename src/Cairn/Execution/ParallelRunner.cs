using System.Runtime.ExceptionServices;

namespace Cairn.Execution;

/// <summary>
/// Runs one parallel step (or inline sub-flow) whose branches work on slices of type <typeparamref name="TSlice"/>:
/// the branches not finished yet, each in a runner of its own, then the merge. Every branch's recovery point records
/// the branch's progress in the step's <see cref="ParallelEnvelope"/> and saves the whole envelope, under a lock,
/// through the sequence the step is in.
/// </summary>
internal sealed class ParallelRunner<TState, TSlice>
{
    private readonly ParallelStep<TState, TSlice> _step;
    private readonly StepRunner<TState> _host;
    private readonly FlowPath _envelopeAt;

    /// <param name="step">The step.</param>
    /// <param name="host">The runner of the sequence the step is in; its state is the flow's state.</param>
    /// <param name="position">The step's position.</param>
    public ParallelRunner(ParallelStep<TState, TSlice> step, StepRunner<TState> host, FlowPath position)
    {
        _step = step;
        _host = host;
        _envelopeAt = position.Append(ParallelStep<TState>.Lane);
    }

    private AttemptScope Scope => _host.Scope;

    /// <summary>Runs the step: the branches not finished yet (all of them unless <paramref name="resume"/> is set), then the merge.</summary>
    /// <param name="resume">The envelope of the checkpoint the attempt resumed from, when it is inside this step.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    public async Task RunAsync(ParallelEnvelope? resume, CancellationToken cancellationToken)
    {
        var envelope = resume ?? Fork();
        if (envelope.Branches.Count != _step.BranchCount(_host.State))
        {
            throw new FlowChangedException(
                $"Run {Scope.Run.Id} cannot resume inside parallel '{_step.Name}': its checkpoint has {envelope.Branches.Count} branch(es) and {Scope.Flow} has " +
                $"{_step.BranchCount(_host.State)}. Its checkpoint is kept; re-run it after deciding what to do.");
        }

        using var stopOthers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(_step.MaxConcurrency, _step.MaxConcurrency);
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
                results[index] = ReadSlice(frame.Name, frame.Slice);
                continue;
            }

            tasks.Add(Task.Run(
                async () =>
                {
                    var runner = CreateRunner(envelope, index, saving);
                    try
                    {
                        await slots.WaitAsync(stopOthers.Token).ConfigureAwait(false);
                        try
                        {
                            var resumeAt = Resume(runner, frame, _step.BranchBody(index));
                            await runner.ExecuteAsync(_step.BranchBody(index), resumeAt, stopOthers.Token).ConfigureAwait(false);
                        }
                        finally
                        {
                            slots.Release();
                        }

                        results[index] = runner.State;
                        var label = $"{_step.Name}/{frame.Name}";
                        await SaveFrameAsync(
                            envelope, saving, index, BranchStatus.Finished, FlowPath.Start, SerializeSlice(frame, runner.State, label), label, $"branch '{frame.Name}' finished",
                            new SaveExtras(runner.TakeOutbox()), stopOthers.Token).ConfigureAwait(false);
                        Scope.Context.Options.AttemptObserver?.AfterCheckpoint(Scope, label, runner.Iterations, runner.WhereSuffix);
                    }
                    catch (Exception ex)
                    {
                        lock (failures)
                        {
                            failures.Add((runner.Where, ex));
                        }

                        // A branch waiting for a detached child is no failure: the others go on until they finish or wait too.
                        if (ex is not WaitingForChildRunException && (_step.OnFailure == ParallelFailure.CancelOthers || ex is AttemptStoppedException or SimulatedCrashException))
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
            _host.Where = where;
            ExceptionDispatchInfo.Capture(error).Throw();
        }

        _host.Where = _step.SubFlow is null ? $"in the merge of parallel '{_step.Name}'" : $"in the output of sub-flow '{_step.Name}'";
        _step.Merge(_host.State, [.. envelope.Branches.Select((b, i) => (b.Name, results[i]))]);
    }

    /// <summary>The envelope when the step starts: the flow's state, and each branch's first slice.</summary>
    private ParallelEnvelope Fork()
    {
        var codec = Scope.Context.Codec;
        var state = _host.State;
        var what = $"Flow {Scope.Flow} could not start parallel '{_step.Name}' for run {Scope.Run.Id}";
        var branches = _step.Branches is { } named
            ? named.Select(b => new BranchFrame { Name = b.Name, Slice = codec.Serialize(b.Slice(state), $"{what}: the slice of branch '{b.Name}'", "") })
            : Enumerable.Range(0, _step.FanOut!.Count(state)).Select(i => new BranchFrame
            {
                Name = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Slice = codec.Serialize(_step.FanOut.Slice(state, i), $"{what}: the slice of item {i}", ""),
            });
        return new ParallelEnvelope { Parallel = _step.Name, State = codec.Serialize(state, $"{what}: the state", ""), Branches = [.. branches] };
    }

    /// <summary>
    /// Restores a branch's slice into its runner and returns where in the branch's body to resume: after its last
    /// recovery point, inside a parallel step or sub-flow nested in it (whose envelope the frame then holds), or from
    /// the start.
    /// </summary>
    private FlowPath Resume(StepRunner<TSlice> runner, BranchFrame frame, IReadOnlyList<FlowStep> body)
    {
        var path = frame.Position;
        if (path.IsStart)
        {
            runner.State = ReadSlice(frame.Name, frame.Slice);
            return path;
        }

        var nested = path is [.., ParallelStep<TSlice>.Lane];
        var (leadsThere, what) = path switch
        {
            [.., ParallelStep<TSlice>.Lane] => (FlowPositions.IsStepAt(body, path[..^1], step => step is ParallelStep<TSlice>), "a parallel step or sub-flow"),
            [.., ChildRunStep<TSlice>.Lane] => (FlowPositions.IsStepAt(body, path[..^1], step => step is ChildRunStep<TSlice>), "a detached sub-flow"),
            _ => (path.Count % 2 == 1 && FlowPositions.IsStepAt(body, path, step => step is RecoveryPointStep), "a recovery point"),
        };
        if (!leadsThere)
        {
            throw new FlowChangedException(
                $"Run {Scope.Run.Id} cannot resume branch '{frame.Name}' of {_step.Kind} '{_step.Name}': its position '{frame.Position}' no longer leads to " +
                $"{what} in {Scope.Flow}. Its checkpoint is kept; re-run it after deciding what to do.");
        }

        if (!nested)
        {
            runner.State = ReadSlice(frame.Name, frame.Slice);
            return path;
        }

        ParallelEnvelope inner;
        try
        {
            inner = ParallelEnvelope.Read(frame.Slice);
        }
        catch (FormatException ex)
        {
            throw new CheckpointCorruptedException(
                $"The saved progress of branch '{frame.Name}' of {_step.Kind} '{_step.Name}' (run {Scope.Run.Id}) cannot be read: {ex.Message}. It is kept unchanged for inspection.");
        }

        runner.State = ReadSlice(frame.Name, inner.State);
        runner.PendingResume = inner;
        return path;
    }

    private StepRunner<TSlice> CreateRunner(ParallelEnvelope envelope, int index, SemaphoreSlim saving)
    {
        var frame = envelope.Branches[index];
        var fanOut = _step.FanOut;
        return new StepRunner<TSlice>(
            Scope,
            default!,
            (point, at, slice, statusMessage, extras, ct) => SaveFrameAsync(
                envelope, saving, index, BranchStatus.InProgress, at, SerializeSlice(frame, slice, point.Name), point.Name, statusMessage, extras, ct),

            // A parallel step or sub-flow nested in the branch (its envelope), or the branch's state where it waits for a
            // detached child: it becomes the branch's saved progress.
            (label, at, statusMessage, bytes, extras, ct) => SaveFrameAsync(envelope, saving, index, BranchStatus.InProgress, at, bytes, label, statusMessage, extras, ct),
            whereSuffix: $" in {_step.BranchLabel(index, frame.Name)}{_host.WhereSuffix}",
            outerIterations: fanOut is null ? _host.Iterations : [.. _host.Iterations, index],
            outerItem: fanOut is null ? _host.CurrentItem() : () => fanOut.ItemAt(_host.State, index))
        {
            StreamsReadOnlyBecause = $"it runs in {_step.BranchLabel(index, frame.Name)}, and branches may open the run's streams but not change them; put streams before or after the {_step.Kind}",
        };
    }

    private byte[] SerializeSlice(BranchFrame frame, TSlice slice, string label) =>
        Scope.Context.Codec.Serialize(
            slice, $"Flow {Scope.Flow} could not save '{label}' for run {Scope.Run.Id}: the slice of branch '{frame.Name}'", " The run stays resumable from its previous checkpoint.");

    /// <summary>
    /// Records a branch's progress in the envelope and saves the whole envelope through the sequence the step is in: as
    /// the run's newest checkpoint, or, when the step is itself nested in a branch, as that branch's progress.
    /// </summary>
    private async Task SaveFrameAsync(
        ParallelEnvelope envelope, SemaphoreSlim saving, int index, BranchStatus status, FlowPath at, byte[] bytes, string label, string? statusMessage,
        SaveExtras extras, CancellationToken cancellationToken)
    {
        var frame = envelope.Branches[index];
        await saving.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            frame.Status = status;
            frame.Position = at;
            frame.Slice = bytes;
            await _host.SaveRaw(label, _envelopeAt, statusMessage, envelope.ToBytes(), extras, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            saving.Release();
        }
    }

    private TSlice ReadSlice(string branch, byte[] slice) =>
        Scope.Context.Codec.Deserialize<TSlice>(slice, $"The slice of branch '{branch}' of run {Scope.Run.Id} ({Scope.Flow})");
}
