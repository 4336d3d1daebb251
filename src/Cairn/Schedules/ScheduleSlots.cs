namespace Cairn.Schedules;

/// <summary>Which of a schedule's due slots start runs: pure decisions, from the spec, the time and the options.</summary>
internal static class ScheduleSlots
{
    /// <summary>The most due slots one pass looks at; older ones beyond it are skipped.</summary>
    public const int MaxScanned = 10_000;

    /// <summary>The slots from <paramref name="first"/> up to <paramref name="now"/> (inclusive), and the first slot after now.</summary>
    public static (List<DateTimeOffset> Due, DateTimeOffset? Next) Due(ScheduleSpec spec, DateTimeOffset first, DateTimeOffset now)
    {
        var due = new List<DateTimeOffset>();
        DateTimeOffset? slot = first;
        while (slot is { } at && at <= now)
        {
            if (due.Count == MaxScanned)
            {
                return (due, spec.NextAfter(now));
            }

            due.Add(at);
            slot = spec.NextAfter(at);
        }

        return (due, slot);
    }

    /// <summary>
    /// The due slots to start runs for, oldest first: all of them when none is more than
    /// <see cref="ScheduleOptions.MissedAfter"/> late; otherwise as <see cref="ScheduleOptions.MissedSlots"/> says.
    /// </summary>
    public static IReadOnlyList<DateTimeOffset> Choose(IReadOnlyList<DateTimeOffset> due, DateTimeOffset now, ScheduleOptions options)
    {
        if (due.Count == 0 || due.All(slot => now - slot <= ScheduleOptions.MissedAfter))
        {
            return due;
        }

        return options.MissedSlots switch
        {
            MissedSlotPolicy.Skip => [.. due.Where(slot => now - slot <= ScheduleOptions.MissedAfter)],
            MissedSlotPolicy.RunOnce => [due[^1]],
            _ => [.. due.Skip(Math.Max(0, due.Count - options.MissedSlotLimit))],
        };
    }

    /// <summary>The recovery ID of a slot's run: the schedule and the slot, so that one slot starts one run across all nodes.</summary>
    public static string RecoveryId(string schedule, DateTimeOffset slot) => $"schedule:{schedule}:{slot.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";

    /// <summary>The recovery ID of a run an operator triggered.</summary>
    public static string TriggeredRecoveryId(string schedule, DateTimeOffset at) => $"schedule:{schedule}:manual:{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffffZ}";
}
