using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Storage;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn runs list|show|rerun|cancel</c>.</summary>
internal static class RunsCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create() => new("runs", "List, inspect, re-run and cancel runs")
    {
        List(),
        Show(),
        Rerun(),
        Cancel(),
    };

    private static Command List()
    {
        var store = StoreOption.Create();
        var status = new Option<RunStatus[]>("--status") { Description = "Only runs with these statuses (Pending, Running, WaitingForRetry, Interrupted, Completed, Failed, Cancelled)", AllowMultipleArgumentsPerToken = true };
        var flow = new Option<string?>("--flow") { Description = "Only runs of this flow" };
        var limit = new Option<int>("--limit") { Description = "The most runs shown", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "List runs, newest first") { store, status, flow, limit };
        command.SetAction(async (parse, ct) =>
        {
            await using var runStore = await StoreOption.OpenExistingAsync(parse.GetRequiredValue(store), ct);
            var statuses = parse.GetValue(status);
            var runs = await runStore.ListRunsAsync(
                new RunQuery { Statuses = statuses is { Length: > 0 } ? statuses : null, FlowName = parse.GetValue(flow), Limit = parse.GetValue(limit) },
                ct);
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumns("Run", "Flow", "Recovery ID", "Status", "Attempt", "Last recovery point", "Status message", "Updated (UTC)");
            foreach (var run in runs)
            {
                table.AddRow(
                    run.Id.ToString(),
                    Markup.Escape($"{run.FlowName} v{run.FlowVersion}"),
                    Markup.Escape(run.RecoveryId),
                    StatusMarkup(run.Status),
                    run.Attempt.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(run.LastRecoveryPoint ?? "-"),
                    Markup.Escape(run.StatusMessage ?? "-"),
                    run.UpdatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"[grey]{runs.Count} run(s)[/]");
            return 0;
        });
        return command;
    }

    private static Command Show()
    {
        var store = StoreOption.Create();
        var id = RunIdArgument();
        var command = new Command("show", "Show a run: status, last recovery point, events, state as JSON") { store, id };
        command.SetAction(async (parse, ct) =>
        {
            await using var runStore = await StoreOption.OpenExistingAsync(parse.GetRequiredValue(store), ct);
            var runId = RunId.Parse(parse.GetRequiredValue(id));
            var run = await runStore.GetRunAsync(runId, ct) ?? throw new RunNotFoundException(runId);
            var details = new Grid().AddColumn().AddColumn();
            void Row(string name, string? value) => details.AddRow($"[grey]{name}[/]", Markup.Escape(value ?? "-"));
            Row("Run", run.Id.ToString());
            Row("Flow", $"{run.FlowName} v{run.FlowVersion}");
            Row("Recovery ID", run.RecoveryId);
            details.AddRow("[grey]Status[/]", StatusMarkup(run.Status));
            Row("Attempt", $"{run.Attempt} (retries used: {run.RetriesUsed})");
            Row("Last recovery point", run.LastRecoveryPoint);
            Row("Status message", run.StatusMessage);
            Row("Last error", run.LastError);
            Row("Owner", run.Owner);
            Row("Created (UTC)", run.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
            Row("Due (UTC)", run.DueAt?.ToString("u", CultureInfo.InvariantCulture));
            Row("Finished (UTC)", run.FinishedAt?.ToString("u", CultureInfo.InvariantCulture));
            AnsiConsole.Write(details);

            var events = await runStore.GetEventsAsync(runId, ct);
            var table = new Table().Border(TableBorder.Rounded).Title("Events").AddColumns("Time (UTC)", "Event", "Attempt", "Message");
            foreach (var e in events)
            {
                table.AddRow(e.Time.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture), e.Kind.ToString(), e.Attempt.ToString(CultureInfo.InvariantCulture), Markup.Escape(e.Message));
            }

            AnsiConsole.Write(table);
            var (title, state) = await ReadStateAsync(runStore, run, ct);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
            Console.Out.WriteLine(state);
            return 0;
        });
        return command;
    }

    private static Command Rerun()
    {
        var store = StoreOption.Create();
        var id = RunIdArgument();
        var command = new Command("rerun", "Run a failed, waiting, interrupted or cancelled run again from its last recovery point") { store, id };
        command.SetAction(async (parse, ct) =>
        {
            await using var runStore = await StoreOption.OpenExistingAsync(parse.GetRequiredValue(store), ct);
            var run = await runStore.RequestRerunAsync(RunId.Parse(parse.GetRequiredValue(id)), "re-run requested from the command line", ct);
            AnsiConsole.MarkupLine($"Run {run.Id} is {StatusMarkup(run.Status)}; an engine serving flow '{Markup.Escape(run.FlowName)}' resumes it from {Markup.Escape(run.LastRecoveryPoint is null ? "the start" : $"recovery point '{run.LastRecoveryPoint}'")}.");
            return 0;
        });
        return command;
    }

    private static Command Cancel()
    {
        var store = StoreOption.Create();
        var id = RunIdArgument();
        var command = new Command("cancel", "Cancel an unfinished run; its checkpoints are kept") { store, id };
        command.SetAction(async (parse, ct) =>
        {
            await using var runStore = await StoreOption.OpenExistingAsync(parse.GetRequiredValue(store), ct);
            var run = await runStore.CancelRunAsync(RunId.Parse(parse.GetRequiredValue(id)), "cancelled from the command line", ct);
            AnsiConsole.MarkupLine($"Run {run.Id} is {StatusMarkup(run.Status)}.");
            return 0;
        });
        return command;
    }

    private static Argument<string> RunIdArgument() => new("run-id") { Description = "The run's ID, as shown by 'cairn runs list'" };

    private static async Task<(string Title, string Json)> ReadStateAsync(RunStore store, Storage.RunRecord run, CancellationToken ct)
    {
        if (run.Status == RunStatus.Completed)
        {
            var result = await store.GetResultAsync(run.Id, ct);
            return ("Result", result is { } r ? Pretty(r) : "(none)");
        }

        var data = await store.GetRecoveryDataAsync(run.Id, ct);
        if (data.Checkpoint is { } checkpoint)
        {
            return ($"State at recovery point '{checkpoint.RecoveryPoint}' (checkpoint {checkpoint.Sequence}, {checkpoint.State.Length:N0} bytes)", Pretty(checkpoint.State));
        }

        return ("Input (no recovery point passed yet)", data.Input is { } input ? Pretty(input) : "(none)");
    }

    private static string Pretty(ReadOnlyMemory<byte> data)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return $"({data.Length:N0} bytes, not JSON: {Encoding.UTF8.GetString(data.Span[..Math.Min(64, data.Length)])}...)";
        }
    }

    internal static string StatusMarkup(RunStatus status) => status switch
    {
        RunStatus.Completed => "[green]Completed[/]",
        RunStatus.Failed => "[red]Failed[/]",
        RunStatus.Cancelled => "[grey]Cancelled[/]",
        RunStatus.Running => "[blue]Running[/]",
        RunStatus.WaitingForRetry => "[yellow]WaitingForRetry[/]",
        RunStatus.Interrupted => "[yellow]Interrupted[/]",
        _ => status.ToString(),
    };
}
