using System.Diagnostics;
using System.Reflection;

namespace Cairn.Cli;

/// <summary>Starts this same program as a child process (the demo and the crash test kill their children with SIGKILL).</summary>
internal static class ChildProcess
{
    /// <summary>
    /// A start info that runs this program (the entry assembly) with <paramref name="arguments"/>, output redirected; the
    /// child dies when this process does (<see cref="ParentWatch"/>).
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Never written: the child reads it to its end, which comes when this process exits or is killed (ParentWatch).
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment[ParentWatch.Variable] = "1";

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
