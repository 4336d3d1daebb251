using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn purge --older-than 7d</c>.</summary>
internal static class PurgeCommand
{
    public static Command Create()
    {
        var store = StoreOption.Create();
        var olderThan = new Option<string>("--older-than") { Description = "Delete completed, failed and cancelled runs that finished longer ago than this (7d, 12h, 30m)", Required = true };
        var command = new Command("purge", "Delete finished runs older than a retention period") { store, olderThan };
        command.SetAction(async (parse, ct) =>
        {
            var age = Duration.Parse(parse.GetRequiredValue(olderThan), "--older-than");
            await using var opened = await StoreOption.OpenOperatorAsync(parse.GetRequiredValue(store), ct);
            var cutoff = TimeProvider.System.GetUtcNow() - age;
            var count = await opened.Operator.PurgeAsync(age, ct);
            AnsiConsole.MarkupLine($"Purged {count} finished run(s) that finished before {cutoff:u}.");
            return 0;
        });
        return command;
    }
}
