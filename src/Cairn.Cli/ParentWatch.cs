using System.Diagnostics;

namespace Cairn.Cli;

/// <summary>
/// Keeps a child process of this tool (the demo's worker, the crash test's) from outliving its parent: the parent starts
/// it with standard input redirected and <see cref="Variable"/> set (<see cref="ChildProcess.StartInfo"/>), and the child
/// reads its standard input until the end. The pipe's end comes when the parent exits or is killed, even by SIGKILL; the
/// child then dies at once, as a killed process would, so that its store lock is free and its runs resume.
/// </summary>
internal static class ParentWatch
{
    /// <summary>The environment variable that asks a child to watch its parent.</summary>
    public const string Variable = "CAIRN_WATCH_PARENT";

    public static void StartIfAsked()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1" || !Console.IsInputRedirected)
        {
            return;
        }

        var watch = new Thread(() =>
        {
            try
            {
                using var input = Console.OpenStandardInput();
                var buffer = new byte[256];
                while (input.Read(buffer, 0, buffer.Length) > 0)
                {
                    // The parent writes nothing: anything read is ignored until the pipe closes.
                }
            }
            catch (IOException)
            {
                // A broken pipe is the parent gone too.
            }

            Process.GetCurrentProcess().Kill();
        })
        {
            IsBackground = true,
            Name = "cairn parent watch",
        };
        watch.Start();
    }
}
