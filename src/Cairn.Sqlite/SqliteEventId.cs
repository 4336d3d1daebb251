namespace Cairn.Sqlite;

/// <summary>
/// The event IDs of the SQLite store's log messages (2xxx), logged under the category <c>Cairn.Store.Sqlite</c>. They are
/// part of the public contract: a number never changes meaning. No message carries state or inputs.
/// </summary>
public static class SqliteEventId
{
    /// <summary>A schema migration was applied (Information).</summary>
    public const int MigrationApplied = 2001;

    /// <summary>The database is at the current schema version (Debug).</summary>
    public const int SchemaReady = 2002;

    /// <summary>The database could not switch to the WAL journal (Warning).</summary>
    public const int WalUnavailable = 2003;

    /// <summary>The worker lock was taken (Information).</summary>
    public const int WorkerLockAcquired = 2004;

    /// <summary>The worker lock was released (Information).</summary>
    public const int WorkerLockReleased = 2005;

    /// <summary>The worker lock is held by another engine (Warning).</summary>
    public const int WorkerLockHeld = 2006;

    /// <summary>A fenced write was refused: the run's lease epoch moved on, so its attempt no longer owns it (Debug).</summary>
    public const int FencedWriteRefused = 2007;
}
