using Microsoft.Extensions.Logging;

namespace Cairn.AspNetCore;

/// <summary>The console's log messages (event IDs 3xxx). Never logs state.</summary>
internal static partial class Log
{
    /// <summary>The logger category.</summary>
    public const string Category = "Cairn.Console";

    [LoggerMessage(CairnConsoleEventId.RunAction, LogLevel.Information, "{Action} of run {RunId} by {User} from the console")]
    public static partial void RunAction(ILogger logger, string action, RunId runId, string user);

    [LoggerMessage(CairnConsoleEventId.BulkAction, LogLevel.Information, "Bulk {Action} by {User} from the console: {Changed} of {Matched} matching runs changed")]
    public static partial void BulkAction(ILogger logger, string action, string user, int changed, int matched);

    [LoggerMessage(CairnConsoleEventId.Purged, LogLevel.Information, "Purge by {User} from the console: {Count} runs finished more than {OlderThan} ago deleted")]
    public static partial void Purged(ILogger logger, string user, int count, TimeSpan olderThan);

    [LoggerMessage(CairnConsoleEventId.OutboxRedriven, LogLevel.Information, "Outbox re-drive by {User} from the console: {Count} messages")]
    public static partial void OutboxRedriven(ILogger logger, string user, int count);

    [LoggerMessage(CairnConsoleEventId.RemoteRefused, LogLevel.Warning, "Refused a console request from {RemoteAddress}: with no authorization configured the console answers loopback requests only")]
    public static partial void RemoteRefused(ILogger logger, string remoteAddress);

    [LoggerMessage(CairnConsoleEventId.CsrfRefused, LogLevel.Warning, "Refused a console {Method} {Path} without a valid anti-forgery token: {Reason}")]
    public static partial void CsrfRefused(ILogger logger, string method, string path, string reason);
}
