namespace Cairn.Runs;

/// <summary>How a run ended, as returned by <see cref="CairnEngine.RunAsync{TState}"/>.</summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
/// <param name="RunId">The run.</param>
/// <param name="RecoveryId">The run's recovery ID.</param>
/// <param name="Status">Completed, Failed or Cancelled.</param>
/// <param name="Result">The final state when the run completed; otherwise default.</param>
/// <param name="Error">Why the run failed or was cancelled; null when it completed.</param>
/// <param name="WasAlreadyCompleted">Whether the run had completed before this call, so nothing ran.</param>
public sealed record RunOutcome<TState>(
    RunId RunId,
    string RecoveryId,
    RunStatus Status,
    TState? Result,
    string? Error,
    bool WasAlreadyCompleted)
{
    /// <summary>Whether the run completed.</summary>
    public bool IsCompleted => Status == RunStatus.Completed;
}
