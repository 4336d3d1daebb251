namespace Cairn.Runs;

/// <summary>No run with the given ID exists in the store.</summary>
public sealed class RunNotFoundException : CairnException
{
    /// <summary>Creates the error.</summary>
    public RunNotFoundException(RunId runId)
        : base($"Run {runId} does not exist (it may have been purged).")
    {
        RunId = runId;
    }

    /// <summary>The run that was asked for.</summary>
    public RunId RunId { get; }
}
