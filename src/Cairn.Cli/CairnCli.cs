using System.CommandLine;
using Cairn.Cli.Commands;
using Spectre.Console;

namespace Cairn.Cli;

/// <summary>The command tree and the one place errors become a readable line and an exit code.</summary>
internal static class CairnCli
{
    public static Task<int> RunAsync(string[] args) => RunAsync("cairn", new RootCommand("cairn: durable flows with recovery points")
    {
        DemoCommand.Create(),
        DemoWorkerCommand.Create(),
        ServeCommand.Create(),
        RunsCommands.Create(),
        OutboxCommands.Create(),
        PurgeCommand.Create(),
    }, args);

    /// <summary>Runs <paramref name="root"/> (this tool's tree, or another program's built on its commands); errors are prefixed with <paramref name="name"/>.</summary>
    public static async Task<int> RunAsync(string name, RootCommand root, string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Piped into a file or another tool: do not wrap tables at an assumed 80 columns.
            AnsiConsole.Profile.Width = 240;
        }

        var parsed = root.Parse(args);
        try
        {
            var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            if (parsed.CommandResult.Command.Name == ServeCommand.Name)
            {
                // A node handles SIGINT and SIGTERM itself and stops gracefully, however long its running stages take.
                configuration.ProcessTerminationTimeout = null;
            }

            return await parsed.InvokeAsync(configuration);
        }
        catch (Exception ex) when (ex is CairnException or IOException or FormatException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            AnsiConsole.Console.Profile.Out.Writer.Flush();
            Console.Error.WriteLine($"{name}: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: whatever ran is in the store and resumes from its last recovery point.
            Console.Error.WriteLine($"{name}: cancelled");
            return 130;
        }
        catch (Npgsql.NpgsqlException ex)
        {
            Console.Error.WriteLine($"{name}: the PostgreSQL store failed: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex.GetType().Name == "SqliteException")
        {
            Console.Error.WriteLine($"{name}: the store failed: {ex.Message}");
            return 1;
        }
    }
}
