namespace Cairn.Storage;

/// <summary>An operator action does not apply to the run's current status.</summary>
public sealed class InvalidRunStateException : CairnException
{
    /// <summary>Creates the error.</summary>
    public InvalidRunStateException(RunId runId, RunStatus status, string action, string allowed)
        : base($"Run {runId} is {status}: it cannot be {action}; only {allowed} runs can.")
    {
        RunId = runId;
        Status = status;
    }

    /// <summary>The run.</summary>
    public RunId RunId { get; }

    /// <summary>Its status at the time.</summary>
    public RunStatus Status { get; }
}
