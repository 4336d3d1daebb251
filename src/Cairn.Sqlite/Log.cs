using Microsoft.Extensions.Logging;

namespace Cairn.Sqlite;

/// <summary>The SQLite store's log messages (event IDs 2xxx). Never logs state or inputs.</summary>
internal static partial class Log
{
    /// <summary>The logger category.</summary>
    public const string Category = "Cairn.Store.Sqlite";

    [LoggerMessage(SqliteEventId.MigrationApplied, LogLevel.Information, "Applied schema migration {Version} ({Name}) to the SQLite database '{Path}'")]
    public static partial void MigrationApplied(ILogger logger, int version, string name, string path);

    [LoggerMessage(SqliteEventId.SchemaReady, LogLevel.Debug, "The SQLite database '{Path}' is at schema version {Version}")]
    public static partial void SchemaReady(ILogger logger, string path, int version);

    [LoggerMessage(SqliteEventId.WalUnavailable, LogLevel.Warning, "The SQLite database '{Path}' could not switch to the WAL journal and uses journal mode '{Mode}': readers now wait for writers (the file system may not support WAL)")]
    public static partial void WalUnavailable(ILogger logger, string path, string mode);

    [LoggerMessage(SqliteEventId.WorkerLockAcquired, LogLevel.Information, "Worker lock '{LockPath}' taken by {Owner}")]
    public static partial void WorkerLockAcquired(ILogger logger, string lockPath, string owner);

    [LoggerMessage(SqliteEventId.WorkerLockReleased, LogLevel.Information, "Worker lock '{LockPath}' released by {Owner}")]
    public static partial void WorkerLockReleased(ILogger logger, string lockPath, string owner);

    [LoggerMessage(SqliteEventId.WorkerLockHeld, LogLevel.Warning, "Worker lock '{LockPath}' is held by another engine")]
    public static partial void WorkerLockHeld(ILogger logger, string lockPath);

    [LoggerMessage(SqliteEventId.FencedWriteRefused, LogLevel.Debug, "A write of run {RunId} under lease epoch {Epoch} was refused: the run is no longer that attempt's (cancelled, re-run or taken over)")]
    public static partial void FencedWriteRefused(ILogger logger, RunId runId, long epoch);
}
