using System.Text.Json;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn runs signal</c> and <c>cairn runs signals</c>: deliver a signal to a run, and list a run's signals.</summary>
internal static class SignalCommands
{
    public static Command Signal()
    {
        var name = new Argument<string>("signal") { Description = "The signal's name: the name of the flow's WaitFor step" };
        var payload = new Option<string>("--payload")
        {
            Description = "The signal's payload as JSON, read as the WaitFor step's type (default: null)",
            DefaultValueFactory = _ => "null",
        };
        var id = new Option<string?>("--id") { Description = "The signal's ID, unique per run: a second signal with the same ID is ignored (default: a new ID)" };
        var command = RunsCommands.OnOneRun(
            "signal", "Deliver a signal to an unfinished run: kept until its WaitFor step takes it, waking it if it waits", readOnly: false,
            async (parse, opened, runId, ct) =>
            {
                var signal = parse.GetRequiredValue(name);
                var json = parse.GetRequiredValue(payload);
                try
                {
                    using var document = JsonDocument.Parse(json);
                }
                catch (JsonException ex)
                {
                    throw new FormatException($"--payload is not well-formed JSON: {ex.Message}");
                }

                var delivery = await opened.Operator.SignalJsonAsync(runId, signal, Encoding.UTF8.GetBytes(json), parse.GetValue(id), ct);
                AnsiConsole.MarkupLine(delivery.Duplicate
                    ? $"Run {runId} already has signal ID {Markup.Escape(delivery.SignalId)}: nothing changed."
                    : $"Signal '{Markup.Escape(signal)}' (ID {Markup.Escape(delivery.SignalId)}) delivered to run {runId}.");
            },
            payload,
            id);
        command.Arguments.Add(name);
        return command;
    }

    public static Command List() => RunsCommands.OnOneRun(
        "signals", "List the signals delivered to a run, taken or not", readOnly: true, async (_, opened, runId, ct) =>
        {
            var signals = await opened.Operator.ListSignalsAsync(runId, ct);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("Signal", "ID", "Sent (UTC)", "Taken by checkpoint", "Payload");
            foreach (var signal in signals)
            {
                table.AddRow(
                    Markup.Escape(signal.Name),
                    Markup.Escape(signal.Id),
                    signal.SentAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    signal.TakenBy is { } sequence ? $"#{sequence}" : "[yellow]not taken[/]",
                    Markup.Escape(signal.Payload.Length > 80 ? $"{signal.Payload[..77]}..." : signal.Payload));
            }

            CliOutput.Listed(table, signals.Count, "signal");
        });
}
