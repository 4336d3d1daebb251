namespace Cairn.Sqlite;

/// <summary>
/// The event IDs of the SQLite store's log messages under their first names, kept so that code naming them still
/// compiles: each is the <c>CairnEventId.Sqlite…</c> of the same name, where all of Cairn's event IDs now live.
/// </summary>
[Obsolete("Use CairnEventId.Sqlite…: all of Cairn's event IDs are there.")]
public static class SqliteEventId
{
    /// <summary>A schema migration was applied (Information).</summary>
    public const int MigrationApplied = CairnEventId.SqliteMigrationApplied;

    /// <summary>The database is at the current schema version (Debug).</summary>
    public const int SchemaReady = CairnEventId.SqliteSchemaReady;

    /// <summary>The database could not switch to the WAL journal (Warning).</summary>
    public const int WalUnavailable = CairnEventId.SqliteWalUnavailable;

    /// <summary>The worker lock was taken (Information).</summary>
    public const int WorkerLockAcquired = CairnEventId.SqliteWorkerLockAcquired;

    /// <summary>The worker lock was released (Information).</summary>
    public const int WorkerLockReleased = CairnEventId.SqliteWorkerLockReleased;

    /// <summary>The worker lock is held by another engine (Warning).</summary>
    public const int WorkerLockHeld = CairnEventId.SqliteWorkerLockHeld;

    /// <summary>A fenced write was refused: the run's lease epoch moved on, so its attempt no longer owns it (Debug).</summary>
    public const int FencedWriteRefused = CairnEventId.SqliteFencedWriteRefused;
}
