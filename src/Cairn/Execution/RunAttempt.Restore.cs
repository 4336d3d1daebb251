using System.Runtime.CompilerServices;
using Cairn.Storage;

namespace Cairn.Execution;

internal sealed partial class RunAttempt<TState>
{
    /// <param name="data">What the run was saved as.</param>
    /// <param name="spilled">The checkpoint's state, already read from the stream store when it spilled; else null.</param>
    private (TState State, FlowPath ResumeAt, string? ResumedFrom, ParallelEnvelope? Parallel) Restore(RecoveryData data, StrongBox<TState>? spilled)
    {
        if (data.Checkpoint is { } checkpoint)
        {
            var where = EnsureIntact(checkpoint);
            var resumeAt = FindRecoveryPoint(checkpoint, out var envelope);
            return envelope is null
                ? (spilled is null ? ReadState(checkpoint.State, where) : spilled.Value!, resumeAt, checkpoint.RecoveryPoint, null)
                : (ReadState(envelope.State, where), resumeAt, checkpoint.RecoveryPoint, envelope);
        }

        var input = data.Input ?? throw new CheckpointCorruptedException($"Run {_run.Id} of flow {_flow} has neither a checkpoint nor its input.");
        if (!StateCodec.Matches(input.Span, _run.InputChecksum))
        {
            throw new CheckpointCorruptedException($"The stored input of run {_run.Id} (flow {_flow}) is corrupt: its checksum does not match its data. It is kept unchanged for inspection.");
        }

        return (ReadState(input, $"the input of run {_run.Id} (flow {_flow})"), FlowPath.Start, null, null);
    }

    /// <summary>Checks a checkpoint's checksum; returns how messages name it.</summary>
    /// <exception cref="CheckpointCorruptedException">The checksum does not match its data: the checkpoint is quarantined.</exception>
    private string EnsureIntact(Checkpoint checkpoint) =>
        StateCodec.Matches(checkpoint.State.Span, checkpoint.Checksum)
            ? $"the checkpoint of run {_run.Id} at recovery point '{checkpoint.RecoveryPoint}' (flow {_flow}, checkpoint {checkpoint.Sequence})"
            : throw Quarantine(checkpoint, "its checksum does not match its data");

    /// <summary>
    /// The error that quarantines a damaged checkpoint: it is permanent, so the run fails without using up its retries and
    /// is never resumed from it; the message names the run, the recovery point, the sequence and the store, and says what
    /// the operator can do (a plain re-run is refused by <see cref="RunOperator"/> for the same reason).
    /// </summary>
    private CheckpointCorruptedException Quarantine(Checkpoint checkpoint, string problem)
    {
        var store = _context.Store;
        var text = store.ToString();
        var place = string.IsNullOrEmpty(text) || text == store.GetType().ToString() ? $"store {store.GetType().Name}" : text;
        return new CheckpointCorruptedException(
            $"Run {_run.Id} is quarantined: its checkpoint {checkpoint.Sequence} at recovery point '{checkpoint.RecoveryPoint}' (flow {_flow}) in {place} is corrupt: {problem}. " +
            $"The run is not resumed from it, and the checkpoint is kept unchanged for inspection; re-run the run from an earlier kept checkpoint " +
            $"(RerunOptions.CheckpointSequence, or cairn runs rerun {_run.Id} --from #SEQUENCE).");
    }

    /// <summary>
    /// Finds where to resume in the flow as it is now: at the checkpoint's position if the recovery point is still there,
    /// else at the recovery point of the same name, keeping the iterations and paths of the loops and branches around it
    /// (a stage inserted or removed elsewhere keeps runs resumable).
    /// </summary>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="envelope">The envelope of a checkpoint inside a parallel step, or null.</param>
    private FlowPath FindRecoveryPoint(Checkpoint checkpoint, out ParallelEnvelope? envelope)
    {
        envelope = null;
        var path = checkpoint.Position;

        if (path is [.., ParallelStep<TState>.Lane])
        {
            try
            {
                envelope = ParallelEnvelope.Read(checkpoint.State);
            }
            catch (FormatException ex)
            {
                throw Quarantine(checkpoint, $"it is inside a parallel step but its branches' states cannot be read: {ex.Message}");
            }

            return FindParallel(checkpoint, path, envelope.Parallel);
        }

        if (path is [.., ChildRunStep<TState>.Lane or WaitStep<TState>.WaitingLane or WaitStep<TState>.ReceivedLane])
        {
            // A checkpoint inside a step that waits (for its child run, a timer, a signal): at the step of that name.
            var lane = path[^1];
            Func<FlowStep, bool> isStep = lane == ChildRunStep<TState>.Lane
                ? step => step is ChildRunStep<TState> && step.Name == checkpoint.RecoveryPoint
                : step => step is WaitStep<TState> && step.Name == checkpoint.RecoveryPoint;
            var stepPath = path.Parent;
            if (FlowPositions.IsStepAt(_flow.Steps, stepPath, isStep))
            {
                return path;
            }

            var movedStep = FlowPositions.Find(_flow.Steps, isStep);
            return movedStep is not null && FlowPositions.Relocate(movedStep, stepPath) is { } relocatedStep
                ? relocatedStep.Append(lane)
                : throw new FlowChangedException(
                    $"Run {_run.Id} cannot resume: {(lane == ChildRunStep<TState>.Lane ? "detached sub-flow" : "the wait")} '{checkpoint.RecoveryPoint}', " +
                    $"where it {(lane == WaitStep<TState>.ReceivedLane ? "took its signal" : "waits")}, no longer exists or moved in {_flow} " +
                    $"(the run started on v{_run.FlowVersion}). Its checkpoint is kept; re-run it after deciding what to do.");
        }

        if (path.Count % 2 == 0)
        {
            throw Quarantine(checkpoint, $"its position '{checkpoint.Position}' leads to no step");
        }

        if (FlowPositions.IsRecoveryPointAt(_flow.Steps, path, checkpoint.RecoveryPoint))
        {
            return path;
        }

        var moved = FlowPositions.FindByName(_flow.Steps, checkpoint.RecoveryPoint)
            ?? throw new FlowChangedException(
                $"Run {_run.Id} cannot resume: recovery point '{checkpoint.RecoveryPoint}' no longer exists in {_flow} (the run started on v{_run.FlowVersion}). " +
                "Its checkpoint is kept; restore the recovery point or re-run it after deciding what to do.");
        if (FlowPositions.Relocate(moved, path) is { } relocated)
        {
            return relocated;
        }

        throw new FlowChangedException(
            $"Run {_run.Id} cannot resume: recovery point '{checkpoint.RecoveryPoint}' was inside {(path.Count - 1) / 2} loop(s) or branch(es) " +
            $"at its checkpoint and is inside {moved.Composites.Count} now, or in another kind, in {_flow} (the run started on v{_run.FlowVersion}). " +
            "Its checkpoint is kept; re-run it after deciding what to do.");
    }

    /// <summary>
    /// Reads a saved state: through the flow's upgrade hook when the run started on an older version and the flow has
    /// one, else by deserializing it as this version's state type.
    /// </summary>
    private TState ReadState(ReadOnlyMemory<byte> data, string what)
    {
        data = _context.Codec.Unprotect(data, Capitalize(what));
        var older = _run.FlowVersion < _flow.Version;
        if (older && _flow.UpgradeState is { } upgrade)
        {
            try
            {
                return upgrade(_run.FlowVersion, data);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new StateSerializationException(
                    $"{Capitalize(what)}, saved by v{_run.FlowVersion}, could not be upgraded to v{_flow.Version} by the flow's UpgradeState hook: {ex.Message} It is kept unchanged.",
                    null,
                    ex);
            }
        }

        var versions = older
            ? $" (the run started on v{_run.FlowVersion}; give {_flow} an UpgradeState hook to convert older states)"
            : "";
        return _context.Codec.Deserialize<TState>(data.Span, Capitalize(what), versions);
    }
}
