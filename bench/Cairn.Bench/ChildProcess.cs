using System.Reflection;

namespace Cairn.Bench;

/// <summary>
/// This same program in a child process (a hidden child mode), which reports on standard output one line at a time.
/// Each line is stamped when it arrives, so the parent can time events in the child to within the pipe's latency; the
/// lines are kept, so they can be awaited in any order.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly ChildProgram _child;

    private ChildProcess(Process process) => _child = new ChildProgram(process);

    public int Id => _child.Process.Id;

    public static ChildProcess Start(IEnumerable<string> arguments)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this program is unknown; cannot start a child process.");
        var start = new ProcessStartInfo
        {
            FileName = host,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var entry = Assembly.GetEntryAssembly() ?? typeof(BenchProgram).Assembly;
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(entry.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{host}'."));
    }

    /// <summary>Waits for the first line that starts with <paramref name="prefix"/>, whether it came already or comes later.</summary>
    /// <exception cref="InvalidOperationException">The child exited first.</exception>
    /// <exception cref="TimeoutException">No such line came in time.</exception>
    public async Task<ChildLine> WaitForLineAsync(string prefix, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        ChildLine? line;
        try
        {
            line = await _child.WaitForLineAsync(prefix, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The child process {Id} did not report '{prefix}' within {timeout}.");
        }

        if (line is { } found)
        {
            return found;
        }

        await _child.Process.WaitForExitAsync(cancellationToken);
        var errors = (await _child.Errors).Trim();
        throw new InvalidOperationException(
            $"The child process exited with code {_child.Process.ExitCode} before reporting '{prefix}'{(errors.Length > 0 ? $": {errors}" : ".")}");
    }

    /// <summary>Whether the child has exited.</summary>
    public bool HasExited => _child.Process.HasExited;

    /// <summary>What the child wrote on standard error, once it has exited.</summary>
    public async Task<string> GetErrorsAsync() => (await _child.Errors).Trim();

    /// <summary>Kills the child with SIGKILL (what <see cref="Process.Kill()"/> sends on Unix) and waits until it is gone.</summary>
    public Task KillAsync(CancellationToken cancellationToken) => _child.KillAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Waits for the child to exit and returns its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _child.WaitForExitAsync(timeout, cancellationToken);

    public void Dispose() => _child.Dispose();
}
