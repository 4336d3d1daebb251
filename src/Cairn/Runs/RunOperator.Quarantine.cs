using System.Globalization;

namespace Cairn.Runs;

public sealed partial class RunOperator
{
    /// <summary>
    /// Refuses a plain re-run of a run whose latest checkpoint fails its checksum: the engine would resume from it and
    /// quarantine it again. The run can still be re-run from an earlier kept checkpoint.
    /// </summary>
    /// <exception cref="CheckpointCorruptedException">The latest checkpoint is corrupt; nothing changed.</exception>
    private async Task EnsureLatestIntactAsync(RunId runId, CancellationToken cancellationToken)
    {
        // Only a run that can be re-run is worth reading: the store words the refusal of the others.
        if (await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) is not { CheckpointSequence: > 0 } run || !StoreRules.CanRerun(run.Status))
        {
            return;
        }

        Checkpoint? latest;
        try
        {
            latest = (await _store.GetRecoveryDataAsync(runId, cancellationToken).ConfigureAwait(false)).Checkpoint;
        }
        catch (FormatException ex)
        {
            // The store parses the checkpoint's position from its text: text that is no position is a damaged checkpoint.
            throw await QuarantinedAsync(runId, $"its latest checkpoint (checkpoint {run.CheckpointSequence}) has an unreadable position ({ex.Message})", cancellationToken).ConfigureAwait(false);
        }

        if (latest is not null && !StateCodec.Matches(latest.State.Span, latest.Checksum))
        {
            throw await QuarantinedAsync(
                runId,
                $"its last recovery point '{latest.RecoveryPoint}' (checkpoint {latest.Sequence}) is corrupt: its checksum does not match its data",
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Refuses a re-run from a chosen checkpoint, with its saved state, when that checkpoint fails its checksum.</summary>
    /// <exception cref="CheckpointCorruptedException">The chosen checkpoint is corrupt; nothing changed.</exception>
    private async Task EnsureIntactAsync(RunId runId, CheckpointSummary chosen, CancellationToken cancellationToken)
    {
        var checkpoint = await _queries.GetCheckpointAsync(runId, chosen.Sequence, cancellationToken).ConfigureAwait(false);
        if (checkpoint is not null && !StateCodec.Matches(checkpoint.State.Span, checkpoint.Checksum))
        {
            throw await QuarantinedAsync(
                runId,
                $"checkpoint {chosen.Sequence} at recovery point '{chosen.RecoveryPoint}' is corrupt: its checksum does not match its data",
                cancellationToken,
                before: chosen.Sequence).ConfigureAwait(false);
        }
    }

    /// <summary>The refusal to resume from a quarantined checkpoint, naming the earlier kept checkpoints to re-run from instead.</summary>
    private async Task<CheckpointCorruptedException> QuarantinedAsync(RunId runId, string problem, CancellationToken cancellationToken, long? before = null)
    {
        var kept = await _queries.GetCheckpointsAsync(runId, cancellationToken).ConfigureAwait(false);
        var earlier = kept.Skip(before is null ? 1 : 0).Where(c => before is null || c.Sequence < before).ToList();
        var instead = earlier.Count == 0
            ? "It keeps no earlier checkpoint: re-run it with an edited state (RerunOptions.State), or cancel it."
            : string.Create(
                CultureInfo.InvariantCulture,
                $"Re-run it from an earlier kept checkpoint instead — {string.Join(", ", earlier.Select(c => string.Create(CultureInfo.InvariantCulture, $"#{c.Sequence} '{c.RecoveryPoint}'")))} — " +
                $"with RerunOptions.CheckpointSequence (cairn runs rerun {runId} --from #{earlier[0].Sequence}).");
        return new CheckpointCorruptedException(
            $"Run {runId} cannot be re-run from there: {problem}, so the checkpoint is quarantined and kept unchanged for inspection. {instead} Nothing changed.");
    }
}
