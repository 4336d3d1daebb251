using System.Diagnostics;

namespace Cairn.CrashTests;

/// <summary>A `cairn demo-worker` (or other worker command) child process whose output lines can be awaited, and which can be SIGKILLed.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Task _reader;
    private readonly Task<string> _errors;
    private TaskCompletionSource _lineAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process)
    {
        _process = process;
        _errors = process.StandardError.ReadToEndAsync();
        _reader = Task.Run(ReadAsync);
    }

    public int Id => _process.Id;

    public static WorkerProcess Start(params string[] arguments) => StartCommand("Cairn.Cli.dll", "demo-worker", arguments);

    /// <summary>Starts a worker command of the crash test (bench/Cairn.CrashTest), such as `reconcile-worker`.</summary>
    public static WorkerProcess StartCrashTest(string command, params string[] arguments) => StartCommand("Cairn.CrashTest.dll", command, arguments);

    private static WorkerProcess StartCommand(string assembly, string command, string[] arguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        start.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new WorkerProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start cairn"));
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
