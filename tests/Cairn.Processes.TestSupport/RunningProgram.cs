using System.Diagnostics;
using System.Globalization;

namespace Cairn.Processes.TestSupport;

/// <summary>
/// A child process started by <see cref="DotnetProgram.Start"/> (a worker, a node) whose output lines can be awaited,
/// and which can be killed with SIGKILL or stopped with SIGTERM.
/// </summary>
public sealed class RunningProgram : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly ChildProgram _child;
    private readonly string _name;

    internal RunningProgram(Process process, string name)
    {
        _child = new ChildProgram(process);
        _name = name;
    }

    public int Id => _child.Process.Id;

    public bool HasExited => _child.Process.HasExited;

    /// <summary>The lines printed on standard output so far.</summary>
    public IReadOnlyList<string> Lines => [.. _child.Lines.Select(l => l.Text)];

    /// <summary>Waits for a line starting with <paramref name="prefix"/> and returns it; fails if the program exits without printing one.</summary>
    public async Task<string> WaitForLineAsync(string prefix)
    {
        using var patience = new CancellationTokenSource(Patience);
        ChildLine? line;
        try
        {
            line = await _child.WaitForLineAsync(prefix, patience.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_name} did not print '{prefix}' in {Patience}. Output:\n{string.Join('\n', Lines)}");
        }

        return line?.Text
            ?? throw new InvalidOperationException($"{_name} exited without printing '{prefix}'. Output:\n{string.Join('\n', Lines)}\nErrors:\n{await _child.Errors}");
    }

    /// <summary>Kills the process with SIGKILL (what <see cref="Process.Kill()"/> sends on Unix) and waits for it to die.</summary>
    public Task KillAsync() => _child.KillAsync(Patience, CancellationToken.None);

    /// <summary>Asks the process to stop gracefully, with SIGTERM, as a service manager would.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _child.Process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(Patience);
    }

    /// <summary>Waits for the process to exit and for its output to be read, and returns its exit code.</summary>
    public Task<int> WaitForExitAsync() => _child.WaitForExitAsync(Patience, CancellationToken.None);

    public void Dispose() => _child.Dispose();
}
