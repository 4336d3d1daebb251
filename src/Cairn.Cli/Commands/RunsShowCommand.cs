using System.Text.Json;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn runs show ID [--state full|none|N] [--json]</c>: one run with its events, kept checkpoints and state. The
/// store is opened for reading only; a checkpoint's state is checked against its checksum before it is shown.
/// </summary>
internal static class RunsShowCommand
{
    private const int DefaultStateLines = 40;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var state = new Option<string>("--state")
        {
            Description = $"How much of the state to show: full, none, or the first N lines of its JSON (default {DefaultStateLines})",
            DefaultValueFactory = _ => DefaultStateLines.ToString(CultureInfo.InvariantCulture),
        };
        state.Validators.Add(result =>
        {
            if (ParseLimit(result.GetValueOrDefault<string>()) is null)
            {
                result.AddError($"--state '{result.GetValueOrDefault<string>()}' is not full, none or a number of lines of 1 or more.");
            }
        });
        var json = RunsJson.Option();
        return RunsCommands.OnOneRun(
            "show", "Show a run: status, owner, events, kept checkpoints, and its state as JSON (checksum verified)", readOnly: true, async (parse, opened, runId, ct) =>
            {
                var runs = opened.Operator;
                var run = await runs.GetRunAsync(runId, ct) ?? throw new RunNotFoundException(runId);
                var events = await runs.GetEventsAsync(runId, ct);
                var checkpoints = await runs.GetCheckpointsAsync(runId, ct);
                var shown = await ReadStateAsync(runs, run, ct);
                var lines = ParseLimit(parse.GetRequiredValue(state))!.Value;
                var alive = opened.IsOwnerAlive(run, TimeProvider.System.GetUtcNow());
                if (parse.GetValue(json))
                {
                    RunsJson.Write(new RunsJson.ShowJson(
                        RunsJson.Run(run, alive), [.. events.Select(RunsJson.Event)], [.. checkpoints.Select(RunsJson.Checkpoint)],
                        shown is null ? null : StateJson(shown, lines)));
                    return;
                }

                WriteTables(run, alive, events, checkpoints);
                WriteState(shown, lines);
            },
            state,
            json);
    }

    /// <summary>full: no limit (int.MaxValue); none: 0; N ≥ 1: N lines; anything else: null.</summary>
    private static int? ParseLimit(string? value) => value switch
    {
        "full" => int.MaxValue,
        "none" => 0,
        _ => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var lines) && lines >= 1 ? lines : null,
    };

    private static void WriteTables(RunInfo run, bool alive, IReadOnlyList<RunEvent> events, IReadOnlyList<Storage.CheckpointSummary> checkpoints)
    {
        var details = new Grid().AddColumn().AddColumn();
        void Row(string name, string? value) => details.AddRow($"[grey]{name}[/]", Markup.Escape(value ?? "-"));
        Row("Run", run.Id.ToString());
        Row("Flow", $"{run.FlowName} v{run.FlowVersion}");
        Row("Recovery ID", run.RecoveryId);
        details.AddRow("[grey]Status[/]", RunsCommands.StatusMarkup(run.Status));
        Row("Attempt", $"{run.Attempt} (retries used: {run.RetriesUsed})");
        Row("Last recovery point", run.LastRecoveryPoint);
        Row("Status message", run.StatusMessage);
        Row("Last error", run.LastError);
        details.AddRow("[grey]Owner[/]", RunsCommands.OwnerMarkup(run, alive));
        Row("Created (UTC)", run.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
        Row("Due (UTC)", run.DueAt?.ToString("u", CultureInfo.InvariantCulture));
        Row("Finished (UTC)", run.FinishedAt?.ToString("u", CultureInfo.InvariantCulture));
        AnsiConsole.Write(details);

        var table = new Table().Border(TableBorder.Rounded).Title("Events").AddColumns("Time (UTC)", "Event", "Attempt", "Message");
        foreach (var e in events)
        {
            table.AddRow(e.Time.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture), e.Kind.ToString(), e.Attempt.ToString(CultureInfo.InvariantCulture), Markup.Escape(e.Message));
        }

        AnsiConsole.Write(table);
        if (checkpoints.Count == 0)
        {
            return;
        }

        var kept = new Table().Border(TableBorder.Rounded)
            .Title("Kept checkpoints")
            .Caption("Re-run from one: cairn runs rerun ID --from POINT (or #SEQUENCE) [[--state FILE.json]]")
            .AddColumns("Checkpoint", "Recovery point", "Status message", "Saved (UTC)", "State size");
        foreach (var c in checkpoints)
        {
            kept.AddRow(
                string.Create(CultureInfo.InvariantCulture, $"#{c.Sequence}"),
                Markup.Escape(c.RecoveryPoint),
                Markup.Escape(c.StatusMessage ?? "-"),
                c.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{c.StateSize:N0} bytes"));
        }

        AnsiConsole.Write(kept);
    }

    private static void WriteState(ShownState? shown, int lines)
    {
        if (shown is null)
        {
            AnsiConsole.MarkupLine("[bold]State[/]: (none)");
            return;
        }

        var damaged = shown.ChecksumMatches is false ? " - its checksum FAILS: the checkpoint is damaged or was changed outside Cairn" : "";
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(shown.Title)}[/]{(damaged.Length > 0 ? $"[red]{Markup.Escape(damaged)}[/]" : "")}");
        if (lines == 0)
        {
            AnsiConsole.MarkupLine("[grey](not shown: --state none)[/]");
            return;
        }

        var text = Pretty(shown.Data).Split('\n');
        foreach (var line in text.Take(lines))
        {
            Console.Out.WriteLine(line.TrimEnd('\r'));
        }

        if (text.Length > lines)
        {
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"[grey]... {text.Length - lines:N0} more line(s): --state full shows them all[/]");
        }
    }

    private static RunsJson.StateJson StateJson(ShownState shown, int lines)
    {
        JsonElement? value = null;
        string? omitted = lines == 0 ? "--state none" : null;
        if (omitted is null)
        {
            try
            {
                using var document = JsonDocument.Parse(shown.Data);
                value = Pretty(shown.Data).Count(c => c == '\n') + 1 <= lines ? document.RootElement.Clone() : null;
                omitted = value is null ? $"longer than {lines} lines: --state full includes it" : null;
            }
            catch (JsonException)
            {
                omitted = "not JSON";
            }
        }

        return new(shown.Source, shown.RecoveryPoint, shown.Sequence, shown.Data.Length, shown.ChecksumMatches, value, omitted);
    }

    private static async Task<ShownState?> ReadStateAsync(RunOperator runs, RunInfo run, CancellationToken ct)
    {
        if (run.Status == RunStatus.Completed)
        {
            var result = await runs.GetResultAsync(run.Id, ct);
            return result is { } r ? new ShownState("result", "Result", r, null, null, null) : null;
        }

        if (await runs.GetLatestCheckpointAsync(run.Id, ct) is { } latest)
        {
            var checkpoint = latest.Checkpoint;
            return new ShownState(
                "checkpoint",
                $"State at recovery point '{checkpoint.RecoveryPoint}' (checkpoint {checkpoint.Sequence}, {checkpoint.StateSize:N0} bytes)",
                latest.State,
                latest.ChecksumMatches,
                checkpoint.RecoveryPoint,
                checkpoint.Sequence);
        }

        var input = await runs.GetInputAsync(run.Id, ct);
        return input is { } i ? new ShownState("input", "Input (no recovery point passed yet)", i, null, null, null) : null;
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

    private sealed record ShownState(string Source, string Title, ReadOnlyMemory<byte> Data, bool? ChecksumMatches, string? RecoveryPoint, long? Sequence);
}
