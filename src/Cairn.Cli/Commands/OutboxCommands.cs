using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn outbox list|redrive</c>: the messages waiting to leave, and the dead letters.</summary>
internal static class OutboxCommands
{
    public static Command Create() => new("outbox", "List the outbox's pending and dead-lettered messages, and re-drive dead letters")
    {
        List(),
        Redrive(),
    };

    private static Command List()
    {
        var (store, status, limit) = CliOptions.Listing<OutboxStatus>("an outbox status", "Only messages with this status", "The most messages shown, oldest first");
        var run = new Option<string?>("--run") { Description = "Only the messages of this run" };
        var command = new Command("list", "List pending and dead-lettered outbox messages, oldest first") { store, status, run, limit };
        command.SetAction(async (parse, ct) =>
        {
            var query = new OutboxQuery
            {
                Status = parse.GetValue(status) is [var only] ? only : null,
                RunId = parse.GetValue(run) is { } id ? RunId.Parse(id) : null,
                Limit = parse.GetValue(limit),
            };
            await using var opened = await StoreOption.OpenReadOnlyAsync(parse.GetRequiredValue(store), ct);
            var messages = await opened.Operator.ListOutboxAsync(query, ct);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("Message ID", "Run", "Destination", "Status", "Attempts", "Committed (UTC)", "Last error");
            foreach (var message in messages)
            {
                table.AddRow(
                    message.Id.ToString(),
                    message.RunId.ToString(),
                    Markup.Escape(message.Destination),
                    message.Status == OutboxStatus.DeadLettered ? "[red]DeadLettered[/]" : "Pending",
                    message.Attempts.ToString(CultureInfo.InvariantCulture),
                    message.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    Markup.Escape(message.LastError ?? "-"));
            }

            return CliOutput.Listed(table, messages.Count, "message");
        });
        return command;
    }

    private static Command Redrive()
    {
        var store = StoreOption.Create();
        var ids = new Option<string[]>("--id") { Description = "The dead-lettered messages to send again (repeat the option); without it, every dead letter", AllowMultipleArgumentsPerToken = true };
        var command = new Command("redrive", "Send dead-lettered outbox messages again, with their own message IDs") { store, ids };
        command.SetAction(async (parse, ct) =>
        {
            IReadOnlyList<Guid>? chosen = parse.GetValue(ids) is { Length: > 0 } given
                ? [.. given.Select(id => Guid.TryParse(id, out var guid) ? guid : throw new FormatException($"--id '{id}' is not a message ID; 'cairn outbox list' shows them."))]
                : null;
            await using var opened = await StoreOption.OpenOperatorAsync(parse.GetRequiredValue(store), ct);
            var count = await opened.Operator.RedriveOutboxAsync(chosen, ct);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{count} dead-lettered message(s) are pending again; an engine with their publishers delivers them.");
            if (chosen is not null && count < chosen.Distinct().Count())
            {
                // Named messages that were not dead letters (unknown, pending or delivered) are an error, not a silent zero.
                throw new InvalidOperationException(
                    $"{chosen.Distinct().Count() - count} of the {chosen.Distinct().Count()} message(s) named are not dead-lettered (unknown, pending or already delivered); 'cairn outbox list --status DeadLettered' shows the dead letters.");
            }

            return 0;
        });
        return command;
    }
}
