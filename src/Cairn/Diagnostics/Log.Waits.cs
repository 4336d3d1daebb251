using Microsoft.Extensions.Logging;

namespace Cairn.Diagnostics;

// The engine's messages about the recovery switch, durable timers and signals.
internal static partial class Log
{
    [LoggerMessage(CairnEventId.EngineStartedWithoutRecovery, LogLevel.Warning,
        "Cairn engine {Node} started with {FlowCount} flow(s) and recovery switched off (CairnOptions.RecoverInterruptedRuns = false): " +
        "{Interrupted} interrupted run(s) are left as they are, their recovery points kept; switch recovery on and start an engine to resume them")]
    public static partial void EngineStartedWithoutRecovery(ILogger logger, string node, int flowCount, long interrupted);

    [LoggerMessage(CairnEventId.RunWaiting, LogLevel.Debug, "Run {RunId} of flow {Flow} waits {Waiting}")]
    public static partial void RunWaiting(ILogger logger, RunId runId, string flow, string waiting);

    [LoggerMessage(CairnEventId.SignalTaken, LogLevel.Information, "Run {RunId} of flow {Flow} took signal '{Signal}' (ID {SignalId})")]
    public static partial void SignalTaken(ILogger logger, RunId runId, string flow, string signal, string signalId);

    [LoggerMessage(CairnEventId.SignalRejected, LogLevel.Warning,
        "Run {RunId} of flow {Flow} set signal '{Signal}' (ID {SignalId}) aside and waits on: its payload cannot be read as {PayloadType}: {Error}")]
    public static partial void SignalRejected(ILogger logger, RunId runId, string flow, string signal, string signalId, string payloadType, string error);

    [LoggerMessage(CairnEventId.SignalSent, LogLevel.Information, "Signal '{Signal}' (ID {SignalId}) delivered to run {RunId}{Duplicate}")]
    public static partial void SignalSent(ILogger logger, RunId runId, string signal, string signalId, string duplicate);
}
