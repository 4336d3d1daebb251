namespace Cairn.Runs;

/// <summary>A recovery ID that belongs to a run of the same flow was used with a different input.</summary>
public sealed class RecoveryIdConflictException : CairnException
{
    internal RecoveryIdConflictException(string flowName, string recoveryId, RunId existingRun)
        : base($"Recovery ID '{recoveryId}' of flow '{flowName}' belongs to run {existingRun}, which was started with a different input. " +
               "Use a new recovery ID for a new input, or the same input to resume that run.")
    {
        ExistingRun = existingRun;
    }

    /// <summary>The run that owns the recovery ID.</summary>
    public RunId ExistingRun { get; }
}
