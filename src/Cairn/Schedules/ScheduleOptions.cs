namespace Cairn.Schedules;

/// <summary>What a schedule does with slots that passed while no engine could start them (all engines were down, the schedule was paused).</summary>
public enum MissedSlotPolicy
{
    /// <summary>Start nothing for them: wait for the next slot to come.</summary>
    Skip = 0,

    /// <summary>Start one run, for the latest missed slot (Quartz's "fire once now", Hangfire's default).</summary>
    RunOnce = 1,

    /// <summary>Start a run for each missed slot, oldest first, up to <see cref="ScheduleOptions.MissedSlotLimit"/> (the latest ones).</summary>
    RunAll = 2,
}

/// <summary>What a schedule does when a slot comes while its previous run has not finished.</summary>
public enum OverlapPolicy
{
    /// <summary>Start nothing for the slot (Temporal's default).</summary>
    Skip = 0,

    /// <summary>Start the slot's run anyway: runs of the schedule overlap.</summary>
    Allow = 1,

    /// <summary>Keep the slot and start its run when the previous run ends.</summary>
    Queue = 2,
}

/// <summary>How a schedule treats missed and overlapping slots.</summary>
public sealed record ScheduleOptions
{
    /// <summary>Slots count as missed when they are this late when seen. Default 1 minute (Quartz's misfire threshold).</summary>
    public static readonly TimeSpan MissedAfter = TimeSpan.FromMinutes(1);

    /// <summary>Missed slots. Default <see cref="MissedSlotPolicy.RunOnce"/>.</summary>
    public MissedSlotPolicy MissedSlots { get; init; } = MissedSlotPolicy.RunOnce;

    /// <summary>The most runs <see cref="MissedSlotPolicy.RunAll"/> starts at once for missed slots. Default 10.</summary>
    public int MissedSlotLimit { get; init; } = 10;

    /// <summary>Overlapping slots. Default <see cref="OverlapPolicy.Skip"/>.</summary>
    public OverlapPolicy Overlap { get; init; } = OverlapPolicy.Skip;

    /// <summary>What is wrong with the options, or null.</summary>
    public string? FindProblem() =>
        !Enum.IsDefined(MissedSlots) ? $"MissedSlots {MissedSlots} is not a policy"
        : !Enum.IsDefined(Overlap) ? $"Overlap {Overlap} is not a policy"
        : MissedSlotLimit is < 1 or > 1000 ? $"MissedSlotLimit is {MissedSlotLimit}; it must be between 1 and 1,000"
        : null;
}
