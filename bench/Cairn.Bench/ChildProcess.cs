using System.Reflection;

namespace Cairn.Bench;

/// <summary>
/// This same program in a child process (a hidden child mode), which reports on standard output one line at a time.
/// Each line is stamped when it arrives, so the parent can time events in the child to within the pipe's latency; the
/// lines are kept, so they can be awaited in any order.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<ChildLine> _lines = [];
    private readonly Task<string> _errors;
    private readonly Task _reader;
    private TaskCompletionSource _lineAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process)
    {
        _process = process;
        _errors = process.StandardError.ReadToEndAsync();
        _reader = Task.Run(ReadAsync);
    }

    public int Id => _process.Id;

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
        while (true)
        {
            // Read before looking: once the reader has finished, every line it will ever add is in the list.
            var finished = _reader.IsCompleted;
            Task changed;
            lock (_lines)
            {
                foreach (var line in _lines)
                {
                    if (line.Text.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        return line;
                    }
                }

                changed = _lineAdded.Task;
            }

            if (finished)
            {
                break;
            }

            try
            {
                await Task.WhenAny(changed, _reader).WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The child process {Id} did not report '{prefix}' within {timeout}.");
            }
        }

        await _process.WaitForExitAsync(cancellationToken);
        var errors = (await _errors).Trim();
        throw new InvalidOperationException(
            $"The child process exited with code {_process.ExitCode} before reporting '{prefix}'{(errors.Length > 0 ? $": {errors}" : ".")}");
    }

    /// <summary>Whether the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>What the child wrote on standard error, once it has exited.</summary>
    public async Task<string> GetErrorsAsync() => (await _errors).Trim();

    /// <summary>Kills the child with SIGKILL (what <see cref="Process.Kill()"/> sends on Unix) and waits until it is gone.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        _process.Kill();
        await _process.WaitForExitAsync(cancellationToken);
    }

    /// <summary>Waits for the child to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        await _reader;
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } text)
        {
            var line = new ChildLine(text, Stopwatch.GetTimestamp());
            TaskCompletionSource added;
            lock (_lines)
            {
                _lines.Add(line);
                added = _lineAdded;
                _lineAdded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            added.TrySetResult();
        }
    }
}
