namespace Cairn.Postgres;

/// <summary>
/// The event IDs of the PostgreSQL store's log messages (22xx), logged under the category <c>Cairn.Store.Postgres</c>.
/// They are part of the public contract: a number never changes meaning. No message carries state, inputs or passwords.
/// </summary>
public static class PostgresEventId
{
    /// <summary>A schema migration was applied (Information).</summary>
    public const int MigrationApplied = 2201;

    /// <summary>The database is at the current schema version (Debug).</summary>
    public const int SchemaReady = 2202;

    /// <summary>The database cannot be reached; idle pooled connections were dropped (Warning).</summary>
    public const int DatabaseUnreachable = 2203;

    /// <summary>One write of a group commit failed and was rolled back alone (Debug).</summary>
    public const int GroupWriteFailed = 2204;

    /// <summary>Another node created the same run at the same moment (Debug).</summary>
    public const int CreateRunRaced = 2205;

    /// <summary>The wake-up listener lost its connection (Warning).</summary>
    public const int WakeUpsLost = 2206;

    /// <summary>The wake-up listener listens again (Information).</summary>
    public const int WakeUpsRestored = 2207;

    /// <summary>The wake-up listener started listening (Debug).</summary>
    public const int WakeUpsListening = 2208;

    /// <summary>The node-name lock was already gone when released (Debug).</summary>
    public const int NodeLockLost = 2209;

    /// <summary>A group commit is sent again with a savepoint around each write (Debug).</summary>
    public const int GroupRetriedWithSavepoints = 2210;

    /// <summary>A fenced write was refused: the run's lease epoch moved on, so its attempt no longer owns it (Debug).</summary>
    public const int FencedWriteRefused = 2211;
}
