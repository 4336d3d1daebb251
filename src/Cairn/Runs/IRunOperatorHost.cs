namespace Cairn.Runs;

/// <summary>
/// What an engine adds to the operator API it hosts: it starts before an action, knows the flows (so an edited state is
/// checked against its flow's state type), hears of every change at once, cancels the stages it runs, and hands over
/// the changes of its own runs without a poll.
/// </summary>
internal interface IRunOperatorHost
{
    Task EnsureStartedAsync(CancellationToken cancellationToken);

    /// <summary>The registered flow a run resumes on, or null.</summary>
    FlowDefinition? FindFlow(RunRecord run);

    /// <summary>A run was changed by an operator: wake the claim loop and the run's waiters.</summary>
    void Changed(RunId runId);

    /// <summary>Outbox messages were re-driven: wake the dispatcher.</summary>
    void OutboxChanged();

    /// <summary>A schedule changed through the operator API (trigger, resume, save): the engine's scheduler looks again.</summary>
    void SchedulesChanged();

    /// <summary>A run was cancelled: cancel its stage if it runs here.</summary>
    Task CancelRunningAsync(RunId runId);

    /// <summary>The engine's scheduled purge: its retention period (null: no scheduled purge) and how often it runs.</summary>
    PurgeSettings PurgeSettings { get; }

    /// <summary>Waits until the run may have changed, at most <paramref name="timeout"/>.</summary>
    Task WaitForChangeAsync(RunId runId, TimeSpan timeout, CancellationToken cancellationToken);
}
