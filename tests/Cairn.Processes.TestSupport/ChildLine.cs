namespace Cairn.Processes.TestSupport;

/// <summary>A line a child process wrote, and when it arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
internal readonly record struct ChildLine(string Text, long ReceivedAt);
