namespace Cairn;

/// <summary>What a stage sees of its run: the state it works on and where the run stands.</summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
public sealed class StageContext<TState>
{
    internal StageContext(TState state, RunId runId, string recoveryId, string flowName, string stageName, RecoveryInfo recovery)
    {
        State = state;
        RunId = runId;
        RecoveryId = recoveryId;
        FlowName = flowName;
        StageName = stageName;
        Recovery = recovery;
    }

    /// <summary>The flow's state. Change it in place or assign a new value; the next recovery point saves it.</summary>
    public TState State { get; set; }

    /// <summary>The run this stage belongs to.</summary>
    public RunId RunId { get; }

    /// <summary>The run's recovery ID.</summary>
    public string RecoveryId { get; }

    /// <summary>The flow's name.</summary>
    public string FlowName { get; }

    /// <summary>This stage's name.</summary>
    public string StageName { get; }

    /// <summary>Whether the run resumed, from which recovery point, which attempt, and the last error.</summary>
    public RecoveryInfo Recovery { get; }

    /// <summary>
    /// A key that is the same for this run and stage on every attempt: pass it to outside systems so that a stage
    /// that runs again after a crash does not repeat their effects.
    /// </summary>
    public string IdempotencyKey => $"{RunId}:{StageName}";

    /// <summary>
    /// A status message for the next recovery point, replacing the one in the flow definition
    /// (for example "1,204 orders loaded"). Null keeps the definition's message.
    /// </summary>
    public string? StatusMessage { get; set; }
}
