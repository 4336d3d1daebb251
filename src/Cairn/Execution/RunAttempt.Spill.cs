using System.Runtime.CompilerServices;

namespace Cairn.Execution;

internal sealed partial class RunAttempt<TState>
{
    private const string SaveConsequence = " The run stays resumable from its previous checkpoint.";

    private string SaveWhat(string purpose) => $"Flow {_flow} could not {purpose} for run {_run.Id}: the state";

    /// <summary>A recovery point's state: spilled into the stream store past the threshold when the engine keeps streams.</summary>
    private ValueTask<StateSpill.Saved> SerializeAtRecoveryPointAsync(TState state, string point, CancellationToken cancellationToken) =>
        _context.Streams is { } streams && _context.Options.StateSpillThreshold is { } threshold
            ? new ValueTask<StateSpill.Saved>(StateSpill.SerializeAsync(
                _context.Codec, streams, threshold, state, SaveWhat($"save recovery point '{point}'"), SaveConsequence, cancellationToken))
            : new ValueTask<StateSpill.Saved>(new StateSpill.Saved(Serialize(state, $"save recovery point '{point}'"), null));

    /// <summary>
    /// Reads the state of a checkpoint that spilled (<see cref="StateSpill"/>) from the stream store: deserialized as it is
    /// read when the run resumes as usual; into memory as the checkpoint's bytes when something needs them whole (an
    /// upgrade hook for a state of an older flow version, a compensation, a position inside a parallel step).
    /// </summary>
    /// <returns>The recovery data to restore from, and the state read already, or null when there is none to read.</returns>
    private async Task<(RecoveryData Data, StrongBox<TState>? State)> ReadSpilledStateAsync(RecoveryData data, CancellationToken cancellationToken)
    {
        if (data.Checkpoint is not { } checkpoint || StateSpill.Find(checkpoint, out var whole) is not { } spilled)
        {
            return (data, null);
        }

        var what = $"run {_run.Id} at recovery point '{checkpoint.RecoveryPoint}' (flow {_flow}, checkpoint {checkpoint.Sequence})";
        var store = Streams.Store;
        var needsBytes = whole
            || _compensations.Undoing
            || (_run.FlowVersion < _flow.Version && _flow.UpgradeState is not null)
            || checkpoint.Position is [.., ParallelStep<TState>.Lane] or [.., ChildRunStep<TState>.Lane];
        if (needsBytes)
        {
            var bytes = await StateSpill.ReadAllAsync(store, spilled, what, cancellationToken).ConfigureAwait(false);
            return (data with { Checkpoint = checkpoint with { State = bytes, Checksum = StateCodec.Checksum(bytes) } }, null);
        }

        var versions = _run.FlowVersion < _flow.Version
            ? $" (the run started on v{_run.FlowVersion}; give {_flow} an UpgradeState hook to convert older states)"
            : "";
        var state = await StateSpill.DeserializeAsync<TState>(
            _context.Codec, store, spilled, what, versions, cancellationToken).ConfigureAwait(false);
        return (data, new StrongBox<TState>(state));
    }
}
