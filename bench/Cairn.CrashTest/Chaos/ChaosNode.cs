using System.ComponentModel;
using System.Diagnostics;
using Cairn.Cli;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// One node of the soak, a <c>chaos-node</c> child process under a fixed name, started again under it after each kill.
/// Its output goes to a log file of its own (a soak's nodes log for many minutes); it is ready when it prints that it
/// serves. An exit the soak did not cause is recorded.
/// </summary>
internal sealed class ChaosNode(int index, IReadOnlyList<string> arguments, string logPath) : IDisposable
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(90);
    private readonly Lock _logLock = new();
    private readonly List<string> _unexpectedExits = [];
    private Process? _process;
    private bool _exitExpected;

    public string Name => $"node-{index}";

    /// <summary>The processes started under this node's name.</summary>
    public int Starts { get; private set; }

    /// <summary>Whether the node's process exited by itself and was not started again yet.</summary>
    public bool NeedsRestart => _process is { HasExited: true } && !_exitExpected;

    public IReadOnlyList<string> UnexpectedExits
    {
        get
        {
            lock (_unexpectedExits)
            {
                return [.. _unexpectedExits];
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var process = Process.Start(ChildProcess.StartInfo(["chaos-node", "--node", Name, .. arguments]))
            ?? throw new InvalidOperationException($"Could not start {Name}.");
        Starts++;
        _process = process;
        _exitExpected = false;
        Log($"--- process {process.Id} started ({Starts}) ---");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(() => PumpAsync(process.StandardError, null), CancellationToken.None);
        _ = Task.Run(() => PumpAsync(process.StandardOutput, ready), CancellationToken.None);
        _ = Task.Run(() => WatchAsync(process), CancellationToken.None);
        try
        {
            await ready.Task.WaitAsync(StartPatience, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} (process {process.Id}) did not say it serves within {StartPatience.TotalSeconds:F0} s; see {logPath}.");
        }
    }

    /// <summary>SIGKILL: no finally block, no flush, no graceful shutdown.</summary>
    public async Task KillAsync()
    {
        var process = _process!;
        _exitExpected = true;
        try
        {
            process.Kill();
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
            // It has exited already.
        }

        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as a service manager would; returns the exit code, or null if the node did not stop in time (then it is killed).</summary>
    public async Task<int?> StopAsync(TimeSpan patience)
    {
        var process = _process!;
        _exitExpected = true;
        if (process.HasExited)
        {
            return process.ExitCode;
        }

        await SendAsync("TERM");
        try
        {
            await process.WaitForExitAsync().WaitAsync(patience);
            return process.ExitCode;
        }
        catch (TimeoutException)
        {
            await KillAsync();
            return null;
        }
    }

    public void Dispose()
    {
        if (_process is { HasExited: false } process)
        {
            _exitExpected = true;
            process.Kill();
            process.WaitForExit();
        }

        _process?.Dispose();
    }

    private async Task SendAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process!.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    private async Task PumpAsync(StreamReader reader, TaskCompletionSource? ready)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            Log(line);
            if (ready is not null && line.StartsWith($"cairn serve: node {Name} ", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }

        ready?.TrySetException(new InvalidOperationException($"{Name} ended its output before it served; see {logPath}."));
    }

    private async Task WatchAsync(Process process)
    {
        await process.WaitForExitAsync();
        Log($"--- process {process.Id} exited with {process.ExitCode} ---");
        if (!_exitExpected && ReferenceEquals(process, _process))
        {
            lock (_unexpectedExits)
            {
                _unexpectedExits.Add($"{Name} (process {process.Id}) exited by itself with code {process.ExitCode}; see {logPath}");
            }
        }
    }

    private void Log(string line)
    {
        lock (_logLock)
        {
            File.AppendAllText(logPath, $"{DateTime.UtcNow:HH:mm:ss.fff} {line}\n");
        }
    }
}
