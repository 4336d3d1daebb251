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

    /// <summary>Creates the exception for a recovery ID no run of the flow has.</summary>
    /// <param name="flowName">The flow.</param>
    /// <param name="recoveryId">The recovery ID.</param>
    public RunNotFoundException(string flowName, string recoveryId)
        : base($"No run of flow '{flowName}' has the recovery ID '{recoveryId}' (it may have been purged).")
    {
    }

    /// <summary>The run that was asked for; the default ID when it was asked for by recovery ID.</summary>
    public RunId RunId { get; }
}
