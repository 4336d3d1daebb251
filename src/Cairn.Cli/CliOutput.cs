using Spectre.Console;

namespace Cairn.Cli;

/// <summary>How the list commands end their output.</summary>
internal static class CliOutput
{
    /// <summary>Writes the table, then how many rows it has (<c>3 run(s)</c>), and returns the exit code 0.</summary>
    public static int Listed(Table table, int count, string noun)
    {
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"[grey]{count} {noun}(s)[/]");
        return 0;
    }
}
