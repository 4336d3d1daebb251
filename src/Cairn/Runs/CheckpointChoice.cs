namespace Cairn.Runs;

/// <summary>Which kept checkpoint a re-run goes back to, chosen once for the engine, the operator API and the tools.</summary>
internal static class CheckpointChoice
{
    /// <summary>The kept checkpoint (newest first) that <paramref name="options"/> choose.</summary>
    /// <exception cref="CheckpointNotFoundException">The run keeps no such checkpoint.</exception>
    /// <exception cref="ArgumentException">The options name both a recovery point and a sequence number.</exception>
    public static CheckpointSummary Choose(RunId runId, IReadOnlyList<CheckpointSummary> kept, RerunOptions options)
    {
        if (options.RecoveryPoint is not null && options.CheckpointSequence is not null)
        {
            throw new ArgumentException("Choose the checkpoint either by recovery point or by sequence number, not both.", nameof(options));
        }

        CheckpointSummary? chosen;
        string wanted;
        if (options.RecoveryPoint is { } point)
        {
            chosen = kept.FirstOrDefault(c => c.RecoveryPoint == point); // Newest first: the latest pass of the point.
            wanted = $"checkpoint at recovery point '{point}'";
        }
        else if (options.CheckpointSequence is { } sequence)
        {
            chosen = kept.FirstOrDefault(c => c.Sequence == sequence);
            wanted = $"checkpoint {sequence}";
        }
        else
        {
            chosen = kept.Count > 0 ? kept[0] : null;
            wanted = "checkpoint";
        }

        return chosen ?? throw new CheckpointNotFoundException(runId, wanted, kept);
    }
}
