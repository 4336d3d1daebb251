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
        ConsoleCommand.Create(),
        RunsCommands.Create(),
        OutboxCommands.Create(),
        SchedulesCommands.Create(),
        PurgeCommand.Create(),
    }, args);

    /// <summary>Runs <paramref name="root"/> (this tool's tree, or another program's built on its commands); errors are prefixed with <paramref name="name"/>.</summary>
    public static async Task<int> RunAsync(string name, RootCommand root, string[] args)
    {
        ParentWatch.StartIfAsked();
        if (Console.IsOutputRedirected)
        {
            // Piped into a file or another tool: do not wrap tables at an assumed 80 columns.
            AnsiConsole.Profile.Width = 240;
        }

        if (Console.IsOutputRedirected || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 })
        {
            // No escape codes at all, bold included, unless a person reads a terminal (https://no-color.org).
            AnsiConsole.Profile.Capabilities.Ansi = false;
            AnsiConsole.Profile.Capabilities.ColorSystem = ColorSystem.NoColors;
        }

        // Nothing asked: the help page, as for --help.
        var parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parsed.Errors.Count > 0)
        {
            // One line, not the help page: what is wrong, and where to read more.
            var names = new List<string>();
            for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            {
                names.Insert(0, result.Command == root ? name : result.Command.Name);
            }

            Console.Error.WriteLine($"{name}: {parsed.Errors[0].Message.TrimEnd('.')} (see '{string.Join(' ', names)} --help').");
            return 2;
        }

        try
        {
            var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            if (ServeCommand.IsNode(parsed.CommandResult.Command.Name) || parsed.CommandResult.Command.Name == ConsoleCommand.Name)
            {
                // A node (and the console's web host) handles SIGINT and SIGTERM itself and stops gracefully, however long its running stages take.
                configuration.ProcessTerminationTimeout = null;
            }

            return await parsed.InvokeAsync(configuration);
        }
        catch (Exception ex) when (ex is CairnException or IOException or FormatException or ArgumentException or InvalidOperationException or UnauthorizedAccessException
            or OverflowException)
        {
            AnsiConsole.Console.Profile.Out.Writer.Flush();
            Console.Error.WriteLine($"{name}: {Plain(ex)}");
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
            Console.Error.WriteLine($"{name}: {NamedStore(parsed) ?? "the PostgreSQL store"} failed: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex.GetType().Name == "SqliteException")
        {
            Console.Error.WriteLine($"{name}: the SQLite store{(NamedStore(parsed) is { } path ? $" '{path}'" : "")} failed: {ex.Message}");
            return 1;
        }
    }

    /// <summary>An exception's message for a person: without .NET's "(Parameter 'name')" suffixes.</summary>
    public static string Plain(Exception exception)
    {
        var message = exception.Message;
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is ArgumentException { ParamName: { } parameter })
            {
                message = message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal);
            }
        }

        return message;
    }

    /// <summary>The store the command was given (a file's full path, or the PostgreSQL database); null when it cannot be told.</summary>
    private static string? NamedStore(ParseResult parsed)
    {
        try
        {
            return parsed.GetValue<string>("--store") is { } store ? StoreOption.Describe(store) : null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            return null;
        }
    }
}
