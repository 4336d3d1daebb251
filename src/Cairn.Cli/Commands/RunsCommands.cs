using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Runs;
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
            await using var opened = await StoreOption.OpenOperatorAsync(parse.GetRequiredValue(store), ct);
            var statuses = parse.GetValue(status);
            var runs = (await opened.Operator.ListRunsAsync(
                new RunQuery { Statuses = statuses is { Length: > 0 } ? statuses : null, FlowName = parse.GetValue(flow), Limit = parse.GetValue(limit) },
                ct)).Runs;
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

    private static Command Show() => OnOneRun(
        "show", "Show a run: status, last recovery point, events, kept checkpoints, state as JSON", async (runs, runId, ct) =>
        {
            var run = await runs.GetRunAsync(runId, ct) ?? throw new RunNotFoundException(runId);
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

            var events = await runs.GetEventsAsync(runId, ct);
            var table = new Table().Border(TableBorder.Rounded).Title("Events").AddColumns("Time (UTC)", "Event", "Attempt", "Message");
            foreach (var e in events)
            {
                table.AddRow(e.Time.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture), e.Kind.ToString(), e.Attempt.ToString(CultureInfo.InvariantCulture), Markup.Escape(e.Message));
            }

            AnsiConsole.Write(table);
            var checkpoints = await runs.GetCheckpointsAsync(runId, ct);
            if (checkpoints.Count > 0)
            {
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

            var (title, state) = await ReadStateAsync(runs, run, ct);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
            Console.Out.WriteLine(state);
        });

    private static Command Rerun()
    {
        var store = StoreOption.Create();
        var id = RunIdArgument();
        var from = new Option<string?>("--from")
        {
            Description = "Go back to an earlier kept checkpoint: a recovery point's name (its newest kept checkpoint) or #SEQUENCE; 'cairn runs show' lists them",
        };
        var state = new Option<string?>("--state")
        {
            Description = "A JSON file with an edited state to resume with; the engine checks it against the flow's state type when it resumes the run",
        };
        var command = new Command("rerun", "Run a failed, waiting, interrupted or cancelled run again from its last recovery point, or from an earlier one, optionally with an edited state")
        {
            store, id, from, state,
        };
        command.SetAction(async (parse, ct) =>
        {
            // Everything the operator typed is checked before the store is touched: bad input changes nothing.
            var runId = RunId.Parse(parse.GetRequiredValue(id));
            var fromValue = parse.GetValue(from);
            var statePath = parse.GetValue(state);
            var options = fromValue is null && statePath is null ? null : new RerunOptions
            {
                RecoveryPoint = fromValue is null || fromValue.StartsWith('#') ? null : fromValue,
                CheckpointSequence = fromValue is not null && fromValue.StartsWith('#') ? ParseSequence(fromValue) : null,
                State = statePath is null ? null : await ReadStateFileAsync(statePath, ct),
                Message = "re-run requested from the command line",
            };

            await using var opened = await StoreOption.OpenOperatorAsync(parse.GetRequiredValue(store), ct);
            if (options is null)
            {
                var run = await opened.Operator.RerunAsync(runId, "re-run requested from the command line", ct);
                AnsiConsole.MarkupLine($"Run {run.Id} is {StatusMarkup(run.Status)}; an engine serving flow '{Markup.Escape(run.FlowName)}' resumes it from {Markup.Escape(run.LastRecoveryPoint is null ? "the start" : $"recovery point '{run.LastRecoveryPoint}'")}.");
                return 0;
            }

            var rerun = await opened.Operator.RerunAsync(runId, options, ct);
            var requested = (await opened.Operator.GetEventsAsync(runId, ct)).LastOrDefault(e => e.Kind == RunEventKind.RerunRequested);
            AnsiConsole.MarkupLine($"Run {rerun.Id} is {StatusMarkup(rerun.Status)}; an engine serving flow '{Markup.Escape(rerun.FlowName)}' resumes it from recovery point '{Markup.Escape(rerun.LastRecoveryPoint ?? "")}'.");
            AnsiConsole.MarkupLine($"[grey]Event:[/] {Markup.Escape(requested?.Message ?? "")}");
            if (statePath is not null)
            {
                AnsiConsole.MarkupLine(
                    $"[grey]The state from {Markup.Escape(statePath)} is well-formed JSON; the engine checks it against the flow's state type when it resumes the run.[/]");
                AnsiConsole.MarkupLine("[grey]If the engine cannot read it, the run fails and keeps its earlier checkpoints to re-run from.[/]");
            }

            return 0;
        });
        return command;
    }

    private static long ParseSequence(string from) =>
        long.TryParse(from.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence > 0
            ? sequence
            : throw new FormatException($"--from '{from}' is not a checkpoint number: give #SEQUENCE (such as #3) or a recovery point's name.");

    /// <summary>Reads an edited state: well-formed JSON that is not null, without a byte order mark (the engine reads raw UTF-8).</summary>
    private static async Task<byte[]> ReadStateFileAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new IOException($"The state file '{Path.GetFullPath(path)}' does not exist.");
        }

        var bytes = await File.ReadAllBytesAsync(path, ct);
        if (bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble))
        {
            bytes = bytes[Encoding.UTF8.Preamble.Length..];
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind == JsonValueKind.Null)
            {
                throw new FormatException($"The state file '{path}' holds JSON null; it must hold the whole state of the run.");
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The state file '{path}' is not well-formed JSON: {ex.Message}");
        }

        return bytes;
    }

    private static Command Cancel()
    {
        var compensate = new Option<bool>("--compensate")
        {
            Description = "Undo the run's completed stages first: their compensations run in reverse order on the engine that claims it, and it ends Compensated",
        };
        return OnOneRun(
            "cancel", "Cancel an unfinished run; its checkpoints are kept", async (parse, runs, runId, ct) =>
            {
                var run = parse.GetValue(compensate)
                    ? await runs.CancelWithCompensationAsync(runId, "cancelled with compensation from the command line", ct)
                    : await runs.CancelAsync(runId, "cancelled from the command line", ct);
                AnsiConsole.MarkupLine(run.Status == RunStatus.Pending
                    ? $"Run {run.Id} is {StatusMarkup(run.Status)}: an engine serving flow '{Markup.Escape(run.FlowName)}' runs its compensations, then it is Compensated."
                    : $"Run {run.Id} is {StatusMarkup(run.Status)}.");
            },
            compensate);
    }

    /// <summary>A command on one run: <c>--store</c> and the run's ID, checked before the store is opened, then <paramref name="action"/>.</summary>
    private static Command OnOneRun(string name, string description, Func<RunOperator, RunId, CancellationToken, Task> action) =>
        OnOneRun(name, description, (_, runs, runId, ct) => action(runs, runId, ct));

    private static Command OnOneRun(
        string name, string description, Func<ParseResult, RunOperator, RunId, CancellationToken, Task> action, params Option[] options)
    {
        var store = StoreOption.Create();
        var id = RunIdArgument();
        var command = new Command(name, description) { store, id };
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            var runId = RunId.Parse(parse.GetRequiredValue(id));
            await using var opened = await StoreOption.OpenOperatorAsync(parse.GetRequiredValue(store), ct);
            await action(parse, opened.Operator, runId, ct);
            return 0;
        });
        return command;
    }

    private static Argument<string> RunIdArgument() => new("run-id") { Description = "The run's ID, as shown by 'cairn runs list'" };

    private static async Task<(string Title, string Json)> ReadStateAsync(RunOperator runs, RunInfo run, CancellationToken ct)
    {
        if (run.Status == RunStatus.Completed)
        {
            var result = await runs.GetResultAsync(run.Id, ct);
            return ("Result", result is { } r ? Pretty(r) : "(none)");
        }

        if (await runs.GetLatestCheckpointAsync(run.Id, ct) is { } latest)
        {
            var checkpoint = latest.Checkpoint;
            var damaged = latest.ChecksumMatches ? "" : " - its checksum FAILS: the checkpoint is damaged or was changed outside Cairn";
            return ($"State at recovery point '{checkpoint.RecoveryPoint}' (checkpoint {checkpoint.Sequence}, {checkpoint.StateSize:N0} bytes){damaged}", Pretty(latest.State));
        }

        var input = await runs.GetInputAsync(run.Id, ct);
        return ("Input (no recovery point passed yet)", input is { } i ? Pretty(i) : "(none)");
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
        RunStatus.Compensated => "[grey]Compensated[/]",
        _ => status.ToString(),
    };
}
