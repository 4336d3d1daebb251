using System.Globalization;

namespace Cairn.Storage;

/// <summary>An operator asked to re-run a run from a checkpoint the run does not keep (any more).</summary>
public sealed class CheckpointNotFoundException : CairnException
{
    /// <summary>Creates the error.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="wanted">What was asked for, as messages name it: <c>checkpoint 7</c>, <c>recovery point 'loaded'</c>.</param>
    /// <param name="kept">The run's kept checkpoints, newest first.</param>
    public CheckpointNotFoundException(RunId runId, string wanted, IReadOnlyList<CheckpointSummary> kept)
        : base(Describe(runId, wanted, kept))
    {
        ArgumentNullException.ThrowIfNull(kept);
        RunId = runId;
        Kept = kept;
    }

    /// <summary>The run.</summary>
    public RunId RunId { get; }

    /// <summary>The run's kept checkpoints at the time, newest first.</summary>
    public IReadOnlyList<CheckpointSummary> Kept { get; }

    private static string Describe(RunId runId, string wanted, IReadOnlyList<CheckpointSummary>? kept)
    {
        if (kept is null or { Count: 0 })
        {
            return $"Run {runId} keeps no {wanted}: it keeps no checkpoints at all (it has passed no recovery point, or it completed).";
        }

        var list = string.Join(", ", kept.Select(c => string.Create(CultureInfo.InvariantCulture, $"#{c.Sequence} '{c.RecoveryPoint}'")));
        return $"Run {runId} keeps no {wanted}; its kept checkpoints, newest first, are {list}. " +
            "CairnOptions.CheckpointsToKeep sets how many a run keeps.";
    }
}
