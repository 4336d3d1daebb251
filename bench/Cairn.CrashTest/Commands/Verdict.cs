namespace Cairn.CrashTest.Commands;

/// <summary>The last line of a harness command: how many violations in what, and its exit code (0: none, 2: some).</summary>
internal static class Verdict
{
    public static int Print(int violations, string inWhat)
    {
        AnsiConsole.MarkupLine(violations == 0
            ? $"[green]0 violations[/] in {inWhat}."
            : $"[red]{violations} violations[/] in {inWhat}.");
        return violations == 0 ? 0 : 2;
    }
}
