using System.Diagnostics;
using Cairn.Diagnostics;

namespace Cairn.Cli.Commands;

/// <summary>
/// The line protocol of the hidden worker commands (<c>demo-worker</c>, <c>reconcile-worker</c>): one line per stage
/// start and committed recovery point on standard output, <c>HANG</c> when the worker stops itself to be killed, and
/// the engine's warnings on standard error.
/// </summary>
internal static class WorkerProtocol
{
    /// <summary>Prints <c>STAGE NAME ATTEMPT</c> per stage start and <c>POINT LABEL</c> per committed checkpoint, and tells the callbacks.</summary>
    public static ActivityListener Listen(Action<Activity>? stageStarted, Action<string>? pointCommitted)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                if (activity.OperationName == Telemetry.StageActivity)
                {
                    stageStarted?.Invoke(activity);
                    Say($"STAGE {activity.GetTagItem(Telemetry.StageTag)} {activity.GetTagItem(Telemetry.AttemptTag)}");
                }
            },
            ActivityStopped = activity =>
            {
                if (activity.OperationName == Telemetry.CheckpointActivity && activity.Status == ActivityStatusCode.Ok)
                {
                    Say($"POINT {activity.DisplayName}");
                    pointCommitted?.Invoke(activity.DisplayName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    /// <summary>
    /// Warnings and errors of the engine and the store (a store that keeps failing, say) go to standard error, so a
    /// worker never hangs in silence; standard output stays the line protocol the demo and the crash tests read.
    /// </summary>
    public static ILoggerFactory CreateLoggerFactory() => LoggerFactory.Create(logging => logging
        .SetMinimumLevel(LogLevel.Warning)
        .AddSimpleConsole(console => console.SingleLine = true)
        .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));

    public static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }

    /// <summary>Blocks the calling thread (the engine's, in a stage or at a recovery point) until the parent kills this process with SIGKILL.</summary>
    public static void Hang()
    {
        Say("HANG");
        using var never = new ManualResetEventSlim();
        never.Wait();
    }
}
