using Microsoft.Extensions.Logging;

namespace Cairn.Postgres;

/// <summary>The PostgreSQL store's log messages (event IDs 22xx). Never logs state, inputs or connection passwords.</summary>
internal static partial class Log
{
    /// <summary>The logger category.</summary>
    public const string Category = "Cairn.Store.Postgres";

    [LoggerMessage(PostgresEventId.MigrationApplied, LogLevel.Information, "Applied schema migration {Version} ({Name}) to {Database}, schema '{Schema}'")]
    public static partial void MigrationApplied(ILogger logger, int version, string name, string database, string schema);

    [LoggerMessage(PostgresEventId.SchemaReady, LogLevel.Debug, "{Database}, schema '{Schema}', is at schema version {Version}")]
    public static partial void SchemaReady(ILogger logger, string database, string schema, int version);

    [LoggerMessage(PostgresEventId.DatabaseUnreachable, LogLevel.Warning, "{Database} cannot be reached; idle pooled connections were dropped so that the next call reconnects")]
    public static partial void DatabaseUnreachable(ILogger logger, string database, Exception exception);

    [LoggerMessage(PostgresEventId.GroupWriteFailed, LogLevel.Debug, "A write in a group commit of {Count} failed with SQL state {SqlState} and was rolled back alone")]
    public static partial void GroupWriteFailed(ILogger logger, int count, string sqlState);

    [LoggerMessage(PostgresEventId.CreateRunRaced, LogLevel.Debug, "Run {RecoveryId} of flow '{FlowName}' was created by another node at the same moment; reading it")]
    public static partial void CreateRunRaced(ILogger logger, string flowName, string recoveryId);

    [LoggerMessage(PostgresEventId.WakeUpsLost, LogLevel.Warning, "Wake-ups from {Database} on channel '{Channel}' were lost; listening again in {Delay} (engines keep polling meanwhile)")]
    public static partial void WakeUpsLost(ILogger logger, string database, string channel, TimeSpan delay, Exception exception);

    [LoggerMessage(PostgresEventId.WakeUpsRestored, LogLevel.Information, "Listening again for wake-ups from {Database} on channel '{Channel}'")]
    public static partial void WakeUpsRestored(ILogger logger, string database, string channel);

    [LoggerMessage(PostgresEventId.WakeUpsListening, LogLevel.Debug, "Listening for wake-ups from {Database} on channel '{Channel}'")]
    public static partial void WakeUpsListening(ILogger logger, string database, string channel);

    [LoggerMessage(PostgresEventId.NodeLockLost, LogLevel.Debug, "The lock of node name '{Owner}' was already gone when released: {Reason}")]
    public static partial void NodeLockLost(ILogger logger, string owner, string reason);

    [LoggerMessage(PostgresEventId.GroupRetriedWithSavepoints, LogLevel.Debug, "A write in a group commit of {Count} failed with SQL state {SqlState}; the group is sent again with a savepoint around each write")]
    public static partial void GroupRetriedWithSavepoints(ILogger logger, int count, string sqlState);

    [LoggerMessage(PostgresEventId.FencedWriteRefused, LogLevel.Debug, "A write of run {RunId} under lease epoch {Epoch} was refused: the run is no longer that attempt's (cancelled, re-run or taken over)")]
    public static partial void FencedWriteRefused(ILogger logger, RunId runId, long epoch);
}
