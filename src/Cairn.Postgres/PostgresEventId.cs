namespace Cairn.Postgres;

/// <summary>
/// The event IDs of the PostgreSQL store's log messages under their first names, kept so that code naming them still
/// compiles: each is the <c>CairnEventId.Postgres…</c> of the same name, where all of Cairn's event IDs now live.
/// </summary>
[Obsolete("Use CairnEventId.Postgres…: all of Cairn's event IDs are there.")]
public static class PostgresEventId
{
    /// <summary>A schema migration was applied (Information).</summary>
    public const int MigrationApplied = CairnEventId.PostgresMigrationApplied;

    /// <summary>The database is at the current schema version (Debug).</summary>
    public const int SchemaReady = CairnEventId.PostgresSchemaReady;

    /// <summary>The database cannot be reached; idle pooled connections were dropped (Warning).</summary>
    public const int DatabaseUnreachable = CairnEventId.PostgresDatabaseUnreachable;

    /// <summary>One write of a group commit failed and was rolled back alone (Debug).</summary>
    public const int GroupWriteFailed = CairnEventId.PostgresGroupWriteFailed;

    /// <summary>Another node created the same run at the same moment (Debug).</summary>
    public const int CreateRunRaced = CairnEventId.PostgresCreateRunRaced;

    /// <summary>The wake-up listener lost its connection (Warning).</summary>
    public const int WakeUpsLost = CairnEventId.PostgresWakeUpsLost;

    /// <summary>The wake-up listener listens again (Information).</summary>
    public const int WakeUpsRestored = CairnEventId.PostgresWakeUpsRestored;

    /// <summary>The wake-up listener started listening (Debug).</summary>
    public const int WakeUpsListening = CairnEventId.PostgresWakeUpsListening;

    /// <summary>The node-name lock was already gone when released (Debug).</summary>
    public const int NodeLockLost = CairnEventId.PostgresNodeLockLost;

    /// <summary>A group commit is sent again with a savepoint around each write (Debug).</summary>
    public const int GroupRetriedWithSavepoints = CairnEventId.PostgresGroupRetriedWithSavepoints;

    /// <summary>A fenced write was refused: the run's lease epoch moved on, so its attempt no longer owns it (Debug).</summary>
    public const int FencedWriteRefused = CairnEventId.PostgresFencedWriteRefused;
}
