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
    private readonly Process _process;
    private readonly string _name;
    private readonly List<string> _lines = [];
    private readonly Task _reader;
    private readonly Task<string> _errors;
    private TaskCompletionSource _lineAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RunningProgram(Process process, string name)
    {
        _process = process;
        _name = name;
        _errors = process.StandardError.ReadToEndAsync();
        _reader = Task.Run(ReadAsync);
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The lines printed on standard output so far.</summary>
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

    /// <summary>Waits for a line starting with <paramref name="prefix"/> and returns it; fails if the program exits without printing one.</summary>
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
                    throw new InvalidOperationException($"{_name} exited without printing '{prefix}'. Output:\n{string.Join('\n', _lines)}\nErrors:\n{_errors.Result}");
                }

                added = _lineAdded.Task;
            }

            var remaining = Patience - deadline.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{_name} did not print '{prefix}' in {Patience}. Output:\n{string.Join('\n', _lines)}");
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

    /// <summary>Asks the process to stop gracefully, with SIGTERM, as a service manager would.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(Patience);
    }

    /// <summary>Waits for the process to exit and for its output to be read, and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Patience);
        await _reader;
        return _process.ExitCode;
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
