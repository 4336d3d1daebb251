using System.Diagnostics;
using System.Reflection;

namespace Cairn.Cli;

/// <summary>Starts this same program as a child process (the demo and the crash test kill their children with SIGKILL).</summary>
internal static class ChildProcess
{
    /// <summary>A start info that runs this program (the entry assembly) with <paramref name="arguments"/>, output redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Under 'dotnet Cairn.Cli.dll' the process is the host: name the program's assembly too (the tool's, or the
        // crash test's, which starts its workers through this same class).
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }
}
