using Cairn.Schedules;

namespace Cairn.Storage;

/// <summary>
/// The schedules of a store: what starts runs of a flow at cron or interval slots. Engines reconcile the schedules defined
/// in code into it at start-up and claim each due slot with a compare-and-set of <see cref="ScheduleRecord.NextSlotAt"/>,
/// so that one slot starts one run across all nodes (the slot is also part of the run's recovery ID). Every store
/// implements it.
/// </summary>
public interface IScheduleStore
{
    /// <summary>Every schedule, by name.</summary>
    Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken);

    /// <summary>The schedule of that name; null for none.</summary>
    Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates the schedule, or replaces every field of the one of that name but its creation time.</summary>
    Task SaveScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken);

    /// <summary>Deletes the schedule; returns whether there was one. Its runs are left as they are.</summary>
    Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the schedule on after its slots were handled, only if its next slot is still <paramref name="expectedNextSlot"/>
    /// (compare-and-set); returns whether it moved. <paramref name="lastRunId"/> null keeps the last run.
    /// </summary>
    Task<bool> AdvanceScheduleAsync(
        string name, DateTimeOffset? expectedNextSlot, DateTimeOffset? nextSlot, DateTimeOffset? lastSlot, RunId? lastRunId, CancellationToken cancellationToken);

    /// <summary>Clears the schedule's trigger request once its run started, only if it is still <paramref name="triggeredAt"/>; returns whether it did.</summary>
    Task<bool> ClearScheduleTriggerAsync(string name, DateTimeOffset triggeredAt, RunId runId, CancellationToken cancellationToken);
}

/// <summary>A schedule as the store keeps it: what it starts, when, how, and where it is.</summary>
/// <param name="Name">Unique in the store.</param>
/// <param name="FlowName">The flow it starts runs of.</param>
/// <param name="Input">The runs' input, serialized by the engine's serializer (JSON by default).</param>
/// <param name="Spec">When its slots fall.</param>
public sealed record ScheduleRecord(string Name, string FlowName, ReadOnlyMemory<byte> Input, ScheduleSpec Spec)
{
    /// <summary>Missed and overlapping slots.</summary>
    public ScheduleOptions Options { get; init; } = new();

    /// <summary>Whether it is paused: it starts nothing until resumed.</summary>
    public bool Paused { get; init; }

    /// <summary>Its next slot; null when it has none left (a cron expression with no further dates).</summary>
    public DateTimeOffset? NextSlotAt { get; init; }

    /// <summary>The last slot it started a run for (or skipped, by policy); null before the first.</summary>
    public DateTimeOffset? LastSlotAt { get; init; }

    /// <summary>The run it started last, by slot or trigger; null before the first.</summary>
    public RunId? LastRunId { get; init; }

    /// <summary>When an operator asked for a run now (trigger); null when no request waits.</summary>
    public DateTimeOffset? TriggeredAt { get; init; }

    /// <summary>Whether it was defined in code (<c>AddSchedule</c>, reconciled at start-up) rather than at run time.</summary>
    public bool DefinedInCode { get; init; }

    /// <summary>When it was created (set by the store).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it last changed (set by the store).</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Whether the definition (flow, input, spec, options) equals another's.</summary>
    public bool SameDefinition(ScheduleRecord other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return FlowName == other.FlowName && Input.Span.SequenceEqual(other.Input.Span) && Spec.Equals(other.Spec) && Options == other.Options
            && DefinedInCode == other.DefinedInCode;
    }
}
