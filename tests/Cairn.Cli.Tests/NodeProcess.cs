using System.Diagnostics;

namespace Cairn.Cli.Tests;

/// <summary>A `serve` node of the crash test (bench/Cairn.CrashTest: the tool's `cairn serve` with the crash-test flows), a child process whose output lines can be awaited, and which can be stopped with SIGTERM or SIGKILL.</summary>
internal sealed class NodeProcess : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Task _reader;
    private readonly Task<string> _errors;
    private TaskCompletionSource _lineAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(Process process)
    {
        _process = process;
        _errors = process.StandardError.ReadToEndAsync();
        _reader = Task.Run(ReadAsync);
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts a <c>serve</c> node named <c>node-INDEX</c> with 2 slots, journaling its stages.</summary>
    public static NodeProcess StartServe(string store, int index, string journal, string leaseDuration = "3s") => Start(
        "--store", store,
        "--node", $"node-{index}",
        "--max-concurrent-runs", "2",
        "--lease-duration", leaseDuration,
        "--journal", journal);

    public static NodeProcess Start(params string[] arguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["NO_COLOR"] = "1";
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Cairn.CrashTest.dll"));
        start.ArgumentList.Add("serve");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new NodeProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start cairn serve"));
    }

    /// <summary>Waits for a line starting with <paramref name="prefix"/> and returns it.</summary>
    public async Task<string> WaitForLineAsync(string prefix)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task added;
            lock (_lines)
            {
                var found = _lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
                if (found is not null)
                {
                    return found;
                }

                if (_reader.IsCompleted)
                {
                    throw new InvalidOperationException($"cairn exited without printing '{prefix}'. Output:\n{string.Join('\n', _lines)}\nErrors:\n{_errors.Result}");
                }

                added = _lineAdded.Task;
            }

            var remaining = Patience - deadline.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"cairn did not print '{prefix}' in {Patience}. Output:\n{string.Join('\n', _lines)}");
            }

            await Task.WhenAny(added, _reader).WaitAsync(remaining);
        }
    }

    /// <summary>Kills the process with SIGKILL (what <see cref="Process.Kill()"/> sends on Unix) and waits for it to die.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(Patience);
    }

    /// <summary>Asks the node to stop gracefully, with SIGTERM, as a service manager would.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(Patience);
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Patience);
        await _reader;
        return _process.ExitCode;
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (_lines)
            {
                _lines.Add(line);
                Interlocked.Exchange(ref _lineAdded, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }

        lock (_lines)
        {
            _lineAdded.TrySetResult();
        }
    }
}
