using System.Diagnostics;

namespace Cairn.Cli;

/// <summary>Starts this same tool as a child process (the demo and the crash test kill their children with SIGKILL).</summary>
internal static class ChildProcess
{
    /// <summary>A start info that runs <c>cairn</c> with <paramref name="arguments"/>, output redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Under 'dotnet Cairn.Cli.dll' the process is the host: name the tool's assembly too.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }
}
