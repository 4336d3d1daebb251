using System.Diagnostics;

namespace Cairn.Processes.TestSupport;

/// <summary>
/// A child process and what it writes: standard output one line at a time, each line stamped when it arrives and kept, so
/// that lines can be awaited in any order and timed to within the pipe's latency; standard error read to its end. Shared
/// by <see cref="RunningProgram"/> and the benchmarks' child processes (the file is compiled into Cairn.Bench too).
/// </summary>
internal sealed class ChildProgram : IDisposable
{
    private readonly List<ChildLine> _lines = [];
    private TaskCompletionSource _lineAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChildProgram(Process process)
    {
        Process = process;
        Errors = process.StandardError.ReadToEndAsync();
        Reader = Task.Run(() => ReadAsync(process.StandardOutput));
    }

    public Process Process { get; }

    /// <summary>Standard error, once the process has closed it.</summary>
    public Task<string> Errors { get; }

    /// <summary>Done when standard output is closed and every line of it read.</summary>
    public Task Reader { get; }

    /// <summary>The lines so far.</summary>
    public IReadOnlyList<ChildLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>The first line that starts with <paramref name="prefix"/>, whether it came already or comes later; null if the output ended without one.</summary>
    public async Task<ChildLine?> WaitForLineAsync(string prefix, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Read before looking: once the reader has finished, every line it will ever add is in the list.
            var finished = Reader.IsCompleted;
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
                return null;
            }

            await Task.WhenAny(changed, Reader).WaitAsync(cancellationToken);
        }
    }

    /// <summary>Kills the process with SIGKILL (what <see cref="Process.Kill()"/> sends on Unix) and waits until it is gone.</summary>
    public async Task KillAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Process.Kill();
        await Process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
    }

    /// <summary>Waits for the process to exit and for its output to be read, and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await Process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        await Reader;
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit();
        }

        Process.Dispose();
    }

    private async Task ReadAsync(StreamReader output)
    {
        while (await output.ReadLineAsync() is { } text)
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
