using System.ComponentModel;
using System.Diagnostics;
using Cairn.Cli;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// One node of the soak, a <c>chaos-node</c> child process under a fixed name, started again under it after each kill.
/// Its output goes to a log file of its own (a soak's nodes log for many minutes); it is ready when it prints that it
/// serves. An exit the soak did not cause, once it served, is recorded.
/// </summary>
internal sealed class ChaosNode(int index, IReadOnlyList<string> arguments, string logPath) : IDisposable
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(90);
    private const int StartTries = 10;
    private readonly Lock _logLock = new();
    private readonly List<string> _unexpectedExits = [];
    private readonly List<string> _startFailures = [];
    private Process? _process;
    private Process? _serving;
    private bool _exitExpected;

    public string Name => $"node-{index}";

    /// <summary>The processes started under this node's name.</summary>
    public int Starts { get; private set; }

    /// <summary>Whether the node's process exited by itself after it served, and was not started again yet.</summary>
    public bool NeedsRestart => _serving is { HasExited: true } serving && ReferenceEquals(serving, _process) && !_exitExpected;

    /// <summary>The starts that failed before the node served, each followed by another start.</summary>
    public IReadOnlyList<string> StartFailures
    {
        get
        {
            lock (_startFailures)
            {
                return [.. _startFailures];
            }
        }
    }

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

    /// <summary>
    /// Starts the node and waits until it serves. A node that exits before (its engine's start needs the database, which
    /// may be restarting just then) is started again a second later, as a service manager would, and noted.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var tries = 1; ; tries++)
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
                _serving = process;
                return;
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{Name} (process {process.Id}) did not say it serves within {StartPatience.TotalSeconds:F0} s; see {logPath}.");
            }
            catch (InvalidOperationException) when (tries < StartTries)
            {
                await process.WaitForExitAsync(cancellationToken);
                lock (_startFailures)
                {
                    _startFailures.Add($"{Name} (process {process.Id}) exited with {process.ExitCode} before it served (see {logPath}), and was started again");
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
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

    /// <summary>Sends SIGSTOP (freeze) or SIGCONT (thaw), as the <c>kill</c> command does.</summary>
    public Task SignalAsync(string signal) => SendAsync(signal);

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
        // The node's current process, once it served: not one killed and being replaced, nor one whose start failed.
        if (!_exitExpected && ReferenceEquals(process, _process) && ReferenceEquals(process, _serving))
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
