using Cairn.AspNetCore.Security;
using Cairn.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cairn.AspNetCore.Api;

internal static partial class ConsoleEndpoints
{
    private static async Task<IResult> ListSchedulesAsync(ConsoleOperator console, CancellationToken cancellationToken) =>
        Json((await console.Operator.ListSchedulesAsync(cancellationToken).ConfigureAwait(false)).Select(ScheduleResponse.From).ToList());

    private static async Task<IResult> GetScheduleAsync(ConsoleOperator console, string name, CancellationToken cancellationToken) =>
        Json(ScheduleResponse.From(await console.Operator.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false) ?? throw new ScheduleNotFoundException(name)));

    /// <summary><c>pause</c>, <c>resume</c> or <c>trigger</c> a schedule.</summary>
    private static async Task<IResult> ScheduleActionAsync(
        ConsoleOperator console, ILoggerFactory loggers, HttpContext context, string name, string action, CancellationToken cancellationToken)
    {
        var schedules = console.Operator;
        var schedule = action switch
        {
            "pause" => await schedules.PauseScheduleAsync(name, cancellationToken).ConfigureAwait(false),
            "resume" => await schedules.ResumeScheduleAsync(name, cancellationToken).ConfigureAwait(false),
            "trigger" => await schedules.TriggerScheduleAsync(name, cancellationToken).ConfigureAwait(false),
            _ => throw new ConsoleInputException($"'{action}' is not an action on a schedule: use pause, resume or trigger."),
        };
        Log.Console.ScheduleAction(Logger(loggers), action, name, ConsoleUser.NameOf(context));
        return Json(ScheduleResponse.From(schedule));
    }

    private static async Task<IResult> DeleteScheduleAsync(ConsoleOperator console, ILoggerFactory loggers, HttpContext context, string name, CancellationToken cancellationToken)
    {
        await console.Operator.DeleteScheduleAsync(name, cancellationToken).ConfigureAwait(false);
        Log.Console.ScheduleAction(Logger(loggers), "delete", name, ConsoleUser.NameOf(context));
        return Results.NoContent();
    }
}

/// <summary>A schedule as the REST API shows it.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Flow">The flow it starts.</param>
/// <param name="Spec">When, as stored: <c>cron 0 2 * * * @ Europe/Berlin</c> or <c>every 01:00:00 from ...</c>.</param>
/// <param name="Paused">Whether it is paused.</param>
/// <param name="NextSlotAt">Its next slot.</param>
/// <param name="LastSlotAt">The last slot it handled.</param>
/// <param name="LastRunId">The run it started last.</param>
/// <param name="TriggeredAt">A trigger request not yet handled.</param>
/// <param name="MissedSlots">Its missed-slot policy.</param>
/// <param name="MissedSlotLimit">How many missed slots RunAll starts at most.</param>
/// <param name="Overlap">Its overlap policy.</param>
/// <param name="DefinedInCode">Whether it is defined in code.</param>
internal sealed record ScheduleResponse(
    string Name, string Flow, string Spec, bool Paused, DateTimeOffset? NextSlotAt, DateTimeOffset? LastSlotAt, string? LastRunId, DateTimeOffset? TriggeredAt,
    string MissedSlots, int MissedSlotLimit, string Overlap, bool DefinedInCode)
{
    public static ScheduleResponse From(ScheduleRecord schedule) => new(
        schedule.Name, schedule.FlowName, schedule.Spec.ToString(), schedule.Paused, schedule.NextSlotAt, schedule.LastSlotAt, schedule.LastRunId?.ToString(),
        schedule.TriggeredAt, schedule.Options.MissedSlots.ToString(), schedule.Options.MissedSlotLimit, schedule.Options.Overlap.ToString(), schedule.DefinedInCode);
}
