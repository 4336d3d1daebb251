using System.Text.Json;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn runs list|show|rerun|cancel|signal|signals</c>.</summary>
internal static class RunsCommands
{
    public static Command Create() => new("runs", "List, inspect, re-run and cancel runs")
    {
        List(),
        RunsShowCommand.Create(),
        Rerun(),
        Cancel(),
        SignalCommands.Signal(),
        SignalCommands.List(),
    };

    private static Command List()
    {
        var (store, status, limit) = CliOptions.Listing<RunStatus>("a status", "Only runs with these statuses", "The most runs shown");
        var flow = new Option<string?>("--flow") { Description = "Only runs of this flow" };
        var json = RunsJson.Option();
        var command = new Command("list", "List runs, newest first") { store, status, flow, limit, json };
        command.SetAction(async (parse, ct) =>
        {
            await using var opened = await StoreOption.OpenReadOnlyAsync(parse.GetRequiredValue(store), ct);
            var statuses = parse.GetValue(status);
            var runs = (await opened.Operator.ListRunsAsync(
                new RunQuery { Statuses = statuses is { Length: > 0 } ? statuses : null, FlowName = parse.GetValue(flow), Limit = parse.GetValue(limit) },
                ct)).Runs;
            var now = TimeProvider.System.GetUtcNow();
            if (parse.GetValue(json))
            {
                RunsJson.Write(runs.Select(run => RunsJson.Run(run, opened.IsOwnerAlive(run, now))));
                return 0;
            }

            var table = new Table().Border(TableBorder.Rounded)
                .AddColumns("Run", "Flow", "Recovery ID", "Status", "Attempt", "Last recovery point", "Status message", "Owner", "Updated (UTC)");
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
                    OwnerMarkup(run, opened.IsOwnerAlive(run, now)),
                    run.UpdatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            }

            return CliOutput.Listed(table, runs.Count, "run");
        });
        return command;
    }

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
            "cancel", "Cancel an unfinished run; its checkpoints are kept", readOnly: false, async (parse, opened, runId, ct) =>
            {
                var runs = opened.Operator;
                var run = parse.GetValue(compensate)
                    ? await runs.CancelWithCompensationAsync(runId, "cancelled with compensation from the command line", ct)
                    : await runs.CancelAsync(runId, "cancelled from the command line", ct);
                AnsiConsole.MarkupLine(run.Status == RunStatus.Pending
                    ? $"Run {run.Id} is {StatusMarkup(run.Status)}: an engine serving flow '{Markup.Escape(run.FlowName)}' runs its compensations, then it is Compensated."
                    : $"Run {run.Id} is {StatusMarkup(run.Status)}.");
            },
            compensate);
    }

    /// <summary>
    /// A command on one run: <c>--store</c> and the run's ID, checked before the store is opened (for reading only when
    /// <paramref name="readOnly"/>), then <paramref name="action"/>.
    /// </summary>
    internal static Command OnOneRun(
        string name, string description, bool readOnly, Func<ParseResult, OperatorStore, RunId, CancellationToken, Task> action, params Option[] options)
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
            var storeValue = parse.GetRequiredValue(store);
            await using var opened = readOnly ? await StoreOption.OpenReadOnlyAsync(storeValue, ct) : await StoreOption.OpenOperatorAsync(storeValue, ct);
            await action(parse, opened, runId, ct);
            return 0;
        });
        return command;
    }

    internal static Argument<string> RunIdArgument() => new("run-id") { Description = "The run's ID, as shown by 'cairn runs list'" };

    /// <summary>
    /// The run's owner and, for a running run, whether that owner is alive: its lease holds (it renews it while it
    /// lives) or has run out (the process died or lost the store; another node takes the run over).
    /// </summary>
    internal static string OwnerMarkup(RunInfo run, bool alive) => run.Owner is not { } owner
        ? "-"
        : run.Status != RunStatus.Running
            ? Markup.Escape(owner)
            : alive ? $"{Markup.Escape(owner)} [green](alive)[/]" : $"{Markup.Escape(owner)} [red](gone)[/]";

    internal static string StatusMarkup(RunStatus status) => status switch
    {
        RunStatus.Completed => "[green]Completed[/]",
        RunStatus.Failed => "[red]Failed[/]",
        RunStatus.Cancelled => "[grey]Cancelled[/]",
        RunStatus.Running => "[blue]Running[/]",
        RunStatus.WaitingForRetry => "[yellow]WaitingForRetry[/]",
        RunStatus.Interrupted => "[yellow]Interrupted[/]",
        RunStatus.Waiting => "[aqua]Waiting[/]",
        RunStatus.Compensated => "[grey]Compensated[/]",
        _ => status.ToString(),
    };
}
