using Microsoft.Extensions.Logging;

namespace Cairn.Diagnostics;

// The engine's messages about schedules.
internal static partial class Log
{
    [LoggerMessage(CairnEventId.ScheduleSlotStarted, LogLevel.Information, "Schedule '{Schedule}' started run {RunId} of flow '{Flow}' for its slot {Slot:O}")]
    public static partial void ScheduleSlotStarted(ILogger logger, string schedule, RunId runId, string flow, DateTimeOffset slot);

    [LoggerMessage(CairnEventId.ScheduleSlotsSkipped, LogLevel.Warning, "Schedule '{Schedule}' skipped {Count} slot(s) up to {Slot:O}: {Reason}")]
    public static partial void ScheduleSlotsSkipped(ILogger logger, string schedule, int count, DateTimeOffset slot, string reason);

    [LoggerMessage(CairnEventId.ScheduleTriggered, LogLevel.Information, "Schedule '{Schedule}' started run {RunId} of flow '{Flow}' when triggered at {TriggeredAt:O}")]
    public static partial void ScheduleTriggered(ILogger logger, string schedule, RunId runId, string flow, DateTimeOffset triggeredAt);

    [LoggerMessage(CairnEventId.SchedulesReconciled, LogLevel.Information, "Schedules defined in code: {Created} created, {Updated} updated, {Unchanged} unchanged; {NotInCode} other code-defined schedule(s) of this engine's flows are kept (delete them with 'cairn schedules delete' if no code defines them)")]
    public static partial void SchedulesReconciled(ILogger logger, int created, int updated, int unchanged, int notInCode);

    [LoggerMessage(CairnEventId.ScheduleFailed, LogLevel.Error, "Schedule '{Schedule}' could not start its run for {Slot:O}: {Error}")]
    public static partial void ScheduleFailed(ILogger logger, Exception exception, string schedule, DateTimeOffset slot, string error);
}
