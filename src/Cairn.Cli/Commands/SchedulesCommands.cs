using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn schedules list|show|pause|resume|trigger|delete</c>.</summary>
internal static class SchedulesCommands
{
    public static Command Create() => new("schedules", "List, pause, resume, trigger and delete the schedules that start runs")
    {
        List(),
        OnOne("show", "Show one schedule", readOnly: true, (runs, name, ct) => runs.GetScheduleAsync(name, ct), "Schedule"),
        OnOne("pause", "Pause a schedule: it starts nothing until resumed", readOnly: false, (runs, name, ct) => runs.PauseScheduleAsync(name, ct)!, "Paused"),
        OnOne("resume", "Resume a paused schedule from its next slot; the slots it missed while paused are skipped", readOnly: false,
            (runs, name, ct) => runs.ResumeScheduleAsync(name, ct)!, "Resumed"),
        OnOne("trigger", "Start a run of the schedule now; an engine serving its flow starts it", readOnly: false,
            (runs, name, ct) => runs.TriggerScheduleAsync(name, ct)!, "Triggered"),
        OnOne("delete", "Delete a schedule; its runs are kept (one defined in code comes back when an engine whose code defines it starts)", readOnly: false,
            async (runs, name, ct) =>
            {
                await runs.DeleteScheduleAsync(name, ct);
                return null;
            },
            "Deleted"),
    };

    private static Command List()
    {
        var store = StoreOption.Create();
        var command = new Command("list", "List the schedules, with their next slot and last run") { store };
        command.SetAction(async (parse, ct) =>
        {
            await using var opened = await StoreOption.OpenReadOnlyAsync(parse.GetRequiredValue(store), ct);
            var schedules = await opened.Operator.ListSchedulesAsync(ct);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("Schedule", "Flow", "When", "State", "Next slot (UTC)", "Last slot (UTC)", "Last run");
            foreach (var schedule in schedules)
            {
                table.AddRow(
                    Markup.Escape(schedule.Name),
                    Markup.Escape(schedule.FlowName),
                    Markup.Escape(Describe(schedule)),
                    schedule.Paused ? "[yellow]paused[/]" : "[green]active[/]",
                    Time(schedule.NextSlotAt),
                    Time(schedule.LastSlotAt),
                    schedule.LastRunId?.ToString() ?? "-");
            }

            return CliOutput.Listed(table, schedules.Count, "schedule");
        });
        return command;
    }

    private static Command OnOne(
        string verb, string description, bool readOnly, Func<RunOperator, string, CancellationToken, Task<ScheduleRecord?>> action, string done)
    {
        var store = StoreOption.Create();
        var name = new Argument<string>("name") { Description = "The schedule's name, as shown by 'cairn schedules list'" };
        var command = new Command(verb, description) { store, name };
        command.SetAction(async (parse, ct) =>
        {
            var scheduleName = parse.GetRequiredValue(name);
            var storeValue = parse.GetRequiredValue(store);
            await using var opened = readOnly ? await StoreOption.OpenReadOnlyAsync(storeValue, ct) : await StoreOption.OpenOperatorAsync(storeValue, ct);
            var schedule = await action(opened.Operator, scheduleName, ct);
            if (verb == "show" && schedule is null)
            {
                throw new ScheduleNotFoundException(scheduleName);
            }

            if (schedule is null)
            {
                AnsiConsole.MarkupLine($"{done} schedule '{Markup.Escape(scheduleName)}'.");
                return 0;
            }

            if (verb != "show")
            {
                AnsiConsole.MarkupLine($"{done} schedule '{Markup.Escape(scheduleName)}'.");
            }

            var grid = new Grid().AddColumn().AddColumn();
            foreach (var (label, value) in new[]
            {
                ("Schedule", schedule.Name), ("Flow", schedule.FlowName), ("When", Describe(schedule)), ("State", schedule.Paused ? "paused" : "active"),
                ("Missed slots", $"{schedule.Options.MissedSlots} (up to {schedule.Options.MissedSlotLimit})"), ("Overlap", schedule.Options.Overlap.ToString()),
                ("Next slot (UTC)", Time(schedule.NextSlotAt)), ("Last slot (UTC)", Time(schedule.LastSlotAt)), ("Last run", schedule.LastRunId?.ToString() ?? "-"),
                ("Trigger requested", Time(schedule.TriggeredAt)), ("Defined", schedule.DefinedInCode ? "in code (AddSchedule)" : "at run time"),
            })
            {
                grid.AddRow(Markup.Escape(label), Markup.Escape(value));
            }

            AnsiConsole.Write(grid);
            return 0;
        });
        return command;
    }

    private static string Describe(ScheduleRecord schedule) =>
        schedule.Spec.Expression is { } cron ? $"cron '{cron}' in {schedule.Spec.TimeZone!.Id}" : $"every {schedule.Spec.Interval:c}";

    private static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";
}
