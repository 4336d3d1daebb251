namespace Cairn.Diagnostics;

/// <summary>
/// The event IDs of all of Cairn's log messages, in one place: the engine's (1xxx), logged under the category
/// <c>Cairn.Engine</c>; the SQLite store's (20xx, <c>Sqlite…</c>), under <c>Cairn.Store.Sqlite</c>; and the PostgreSQL
/// store's (22xx, <c>Postgres…</c>), under <c>Cairn.Store.Postgres</c>; and the console's (30xx, <c>Console…</c>), under
/// <c>Cairn.Console</c>. They are part of the public contract: a number
/// never changes meaning, so filters and alerts can rely on it. No message carries state, inputs or passwords; a run's ID
/// is always the structured <c>RunId</c> parameter.
/// </summary>
public static class CairnEventId
{
    /// <summary>The engine started (Information).</summary>
    public const int EngineStarted = 1000;

    /// <summary>The engine is stopping and waits for its running runs (Information).</summary>
    public const int EngineStopping = 1001;

    /// <summary>The shutdown timeout passed; running runs are cancelled and will resume from their last recovery point (Warning).</summary>
    public const int ShutdownTimeoutReached = 1002;

    /// <summary>The engine stopped (Information).</summary>
    public const int EngineStopped = 1003;

    /// <summary>An attempt of a run started (Debug).</summary>
    public const int AttemptStarted = 1010;

    /// <summary>A run resumed from a recovery point (Information).</summary>
    public const int RunResumed = 1011;

    /// <summary>A run completed (Debug).</summary>
    public const int RunCompleted = 1012;

    /// <summary>An attempt failed and a retry is scheduled (Warning).</summary>
    public const int RetryScheduled = 1013;

    /// <summary>A run failed for good (Error).</summary>
    public const int RunFailed = 1014;

    /// <summary>The engine lost a run (its lease or checkpoint sequence moved on) and abandoned it (Warning).</summary>
    public const int RunAbandoned = 1015;

    /// <summary>A run was interrupted by shutdown (Information).</summary>
    public const int RunInterrupted = 1016;

    /// <summary>A store call failed and is retried (Error).</summary>
    public const int StoreError = 1020;

    /// <summary>Unfinished runs belong to a flow this engine does not know (Warning).</summary>
    public const int UnknownFlowRuns = 1021;

    /// <summary>Finished runs past the retention period were purged (Information).</summary>
    public const int RunsPurged = 1022;

    /// <summary>A flow version was registered beside another one (Information).</summary>
    public const int FlowVersionAdded = 1023;

    /// <summary>A claimed run is of a newer flow version than this engine knows, and was put back (Warning).</summary>
    public const int RunOfNewerVersion = 1024;

    /// <summary>A run resumes on a flow version or structure other than the one it started on (Information).</summary>
    public const int ResumingOnChangedFlow = 1025;

    /// <summary>The parent of a finished child run could not be woken; it checks on its own timer (Debug).</summary>
    public const int ParentNotWoken = 1026;

    /// <summary>A store call about one run failed and is retried (Error).</summary>
    public const int RunStoreError = 1027;

    /// <summary>An outbox message's delivery failed; it is retried with backoff (Warning).</summary>
    public const int OutboxRetryScheduled = 1030;

    /// <summary>An outbox message used up its deliveries and is dead-lettered; an operator can re-drive it (Error).</summary>
    public const int OutboxDeadLettered = 1031;

    /// <summary>
    /// A stage bound to an application data source found its completion recorded there (by an earlier attempt, or by a
    /// racing one that committed first) and was not run again; its recorded state is used (Information).
    /// </summary>
    public const int StageCompletionFound = 1040;

    /// <summary>The completion records of a completed run could not be deleted from an application data source; the purge deletes them later (Warning).</summary>
    public const int StageCompletionsNotDeleted = 1041;

    /// <summary>Old completion records could not be purged from an application data source; the next purge tries again (Warning).</summary>
    public const int StageCompletionsNotPurged = 1042;

    /// <summary>The sweep deleted stream content no kept checkpoint refers to (Information).</summary>
    public const int StreamsSwept = 1043;

    /// <summary>The engine started with recovery switched off: interrupted runs are left as they are (Warning).</summary>
    public const int EngineStartedWithoutRecovery = 1050;

    /// <summary>A run saved its state and waits without a slot for a timer or a signal (Debug).</summary>
    public const int RunWaiting = 1051;

    /// <summary>A run took the signal it waited for (Information).</summary>
    public const int SignalTaken = 1052;

    /// <summary>A signal's payload could not be read; the run set it aside and waits on (Warning).</summary>
    public const int SignalRejected = 1053;

    /// <summary>A signal was delivered to a run (Information).</summary>
    public const int SignalSent = 1054;

    /// <summary>A schedule started the run of a slot (Information).</summary>
    public const int ScheduleSlotStarted = 1060;

    /// <summary>A schedule skipped slots: missed while no engine ran, or overlapping an unfinished run (Warning).</summary>
    public const int ScheduleSlotsSkipped = 1061;

    /// <summary>A schedule's run was started by an operator's trigger (Information).</summary>
    public const int ScheduleTriggered = 1062;

    /// <summary>The schedules defined in code were reconciled with the store at start-up (Information).</summary>
    public const int SchedulesReconciled = 1063;

    /// <summary>A schedule could not start its run: its flow or input is wrong, or the store failed (Error).</summary>
    public const int ScheduleFailed = 1064;

    /// <summary>A schema migration was applied (Information).</summary>
    public const int SqliteMigrationApplied = 2001;

    /// <summary>The database is at the current schema version (Debug).</summary>
    public const int SqliteSchemaReady = 2002;

    /// <summary>The database could not switch to the WAL journal (Warning).</summary>
    public const int SqliteWalUnavailable = 2003;

    /// <summary>The worker lock was taken (Information).</summary>
    public const int SqliteWorkerLockAcquired = 2004;

    /// <summary>The worker lock was released (Information).</summary>
    public const int SqliteWorkerLockReleased = 2005;

    /// <summary>The worker lock is held by another engine (Warning).</summary>
    public const int SqliteWorkerLockHeld = 2006;

    /// <summary>A fenced write was refused: the run's lease epoch moved on, so its attempt no longer owns it (Debug).</summary>
    public const int SqliteFencedWriteRefused = 2007;

    /// <summary>A stream upload could not be discarded after its write failed; a later sweep discards it (Warning).</summary>
    public const int SqliteStreamUploadLeft = 2008;

    /// <summary>A schema migration was applied (Information).</summary>
    public const int PostgresMigrationApplied = 2201;

    /// <summary>The database is at the current schema version (Debug).</summary>
    public const int PostgresSchemaReady = 2202;

    /// <summary>The database cannot be reached; idle pooled connections were dropped (Warning).</summary>
    public const int PostgresDatabaseUnreachable = 2203;

    /// <summary>One write of a group commit failed and was rolled back alone (Debug).</summary>
    public const int PostgresGroupWriteFailed = 2204;

    /// <summary>Another node created the same run at the same moment (Debug).</summary>
    public const int PostgresCreateRunRaced = 2205;

    /// <summary>The wake-up listener lost its connection (Warning).</summary>
    public const int PostgresWakeUpsLost = 2206;

    /// <summary>The wake-up listener listens again (Information).</summary>
    public const int PostgresWakeUpsRestored = 2207;

    /// <summary>The wake-up listener started listening (Debug).</summary>
    public const int PostgresWakeUpsListening = 2208;

    /// <summary>The node-name lock was already gone when released (Debug).</summary>
    public const int PostgresNodeLockLost = 2209;

    /// <summary>A group commit is sent again with a savepoint around each write (Debug).</summary>
    public const int PostgresGroupRetriedWithSavepoints = 2210;

    /// <summary>A fenced write was refused: the run's lease epoch moved on, so its attempt no longer owns it (Debug).</summary>
    public const int PostgresFencedWriteRefused = 2211;

    /// <summary>The node-name lock was lost with its connection, or a new connection failed; the lock is taken again after a delay (Warning).</summary>
    public const int PostgresNodeLockConnectionLost = 2212;

    /// <summary>The node-name lock could not be taken again: another live process holds the name; tried again after a delay (Warning).</summary>
    public const int PostgresNodeLockInUse = 2213;

    /// <summary>The node-name lock is held again after its connection was lost (Information).</summary>
    public const int PostgresNodeLockRestored = 2214;

    /// <summary>An operator re-ran or cancelled a run from the console (Information).</summary>
    public const int ConsoleRunAction = 3001;

    /// <summary>An operator re-ran or cancelled the runs matching a filter from the console (Information).</summary>
    public const int ConsoleBulkAction = 3002;

    /// <summary>An operator purged finished runs from the console (Information).</summary>
    public const int ConsolePurged = 3003;

    /// <summary>An operator re-drove dead-lettered outbox messages from the console (Information).</summary>
    public const int ConsoleOutboxRedriven = 3004;

    /// <summary>A console request from a non-loopback address was refused: no authorization is configured (Warning).</summary>
    public const int ConsoleRemoteRefused = 3005;

    /// <summary>A mutating console request without a valid anti-forgery token was refused (Warning).</summary>
    public const int ConsoleCsrfRefused = 3006;

    /// <summary>An operator paused, resumed, triggered or deleted a schedule from the console (Information).</summary>
    public const int ConsoleScheduleAction = 3007;
}
