using Microsoft.Extensions.Logging;

namespace Cairn.Diagnostics;

/// <summary>
/// Cairn's log messages, with their event IDs in <see cref="CairnEventId"/>: the engine's, and those of the stores Cairn
/// ships (<see cref="Sqlite"/>, <see cref="Postgres"/>) and the console's (<see cref="Console"/>), each under a category of
/// its own; what both stores say is worded once. Never logs state, inputs or passwords.
/// </summary>
internal static partial class Log
{
    /// <summary>The engine's logger category.</summary>
    public const string Category = "Cairn.Engine";

    // What both stores say when a fenced write is refused.
    private const string FencedWriteRefusedMessage =
        "A write of run {RunId} under lease epoch {Epoch} was refused: the run is no longer that attempt's (cancelled, re-run or taken over)";

    [LoggerMessage(CairnEventId.EngineStarted, LogLevel.Information, "Cairn engine {Node} started with {FlowCount} flow(s); {Interrupted} interrupted run(s) will resume")]
    public static partial void EngineStarted(ILogger logger, string node, int flowCount, int interrupted);

    [LoggerMessage(CairnEventId.EngineStopping, LogLevel.Information, "Cairn engine {Node} stopping; waiting up to {Timeout} for {Active} running run(s)")]
    public static partial void EngineStopping(ILogger logger, string node, TimeSpan timeout, int active);

    [LoggerMessage(CairnEventId.ShutdownTimeoutReached, LogLevel.Warning, "Shutdown timeout reached; cancelling {Active} running run(s), which will resume from their last recovery point")]
    public static partial void ShutdownTimeoutReached(ILogger logger, int active);

    [LoggerMessage(CairnEventId.EngineStopped, LogLevel.Information, "Cairn engine {Node} stopped")]
    public static partial void EngineStopped(ILogger logger, string node);

    [LoggerMessage(CairnEventId.AttemptStarted, LogLevel.Debug, "Run {RunId} of flow {Flow}: attempt {Attempt} started")]
    public static partial void AttemptStarted(ILogger logger, RunId runId, string flow, int attempt);

    [LoggerMessage(CairnEventId.RunResumed, LogLevel.Information, "Run {RunId} of flow {Flow} resumed from recovery point '{RecoveryPoint}' (attempt {Attempt})")]
    public static partial void RunResumed(ILogger logger, RunId runId, string flow, string recoveryPoint, int attempt);

    [LoggerMessage(CairnEventId.RunCompleted, LogLevel.Debug, "Run {RunId} of flow {Flow} completed")]
    public static partial void RunCompleted(ILogger logger, RunId runId, string flow);

    [LoggerMessage(CairnEventId.RetryScheduled, LogLevel.Warning, "Run {RunId} of flow {Flow} failed on attempt {Attempt}; retry in {Delay}: {Error}")]
    public static partial void RetryScheduled(ILogger logger, RunId runId, string flow, int attempt, TimeSpan delay, string error);

    [LoggerMessage(CairnEventId.RunFailed, LogLevel.Error, "Run {RunId} of flow {Flow} failed: {Error}")]
    public static partial void RunFailed(ILogger logger, RunId runId, string flow, string error);

    [LoggerMessage(CairnEventId.RunAbandoned, LogLevel.Warning, "Run {RunId} abandoned: no longer owned by {Owner} at lease epoch {LeaseEpoch}; it was cancelled or claimed by another node")]
    private static partial void RunAbandoned(ILogger logger, RunId runId, string owner, long leaseEpoch);

    public static void RunAbandoned(ILogger logger, RunOwnershipLostException lost) =>
        RunAbandoned(logger, lost.Lease.RunId, lost.Lease.Owner, lost.Lease.Epoch);

    [LoggerMessage(CairnEventId.RunInterrupted, LogLevel.Information, "Run {RunId} of flow {Flow} interrupted by shutdown; it will resume from its last recovery point")]
    public static partial void RunInterrupted(ILogger logger, RunId runId, string flow);

    [LoggerMessage(CairnEventId.StoreError, LogLevel.Error, "The store failed while {Action}; retrying in {Delay}")]
    public static partial void StoreError(ILogger logger, Exception exception, string action, TimeSpan delay);

    [LoggerMessage(CairnEventId.UnknownFlowRuns, LogLevel.Warning, "{Count} unfinished run(s) belong to flow '{Flow}', which this engine does not know; they wait for an engine that does")]
    public static partial void UnknownFlowRuns(ILogger logger, int count, string flow);

    [LoggerMessage(CairnEventId.RunsPurged, LogLevel.Information, "Purged {Count} finished run(s) older than {Cutoff}")]
    public static partial void Purged(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(CairnEventId.FlowVersionAdded, LogLevel.Information, "Flow '{Flow}' v{Version} registered beside v{Previous}: runs resume on their own version when registered, else on the newest")]
    public static partial void FlowVersionAdded(ILogger logger, string flow, int version, int previous);

    [LoggerMessage(CairnEventId.RunOfNewerVersion, LogLevel.Warning, "Run {RunId} is {Flow} v{Version}, newer than this engine's v{Newest}; it is put back for a node that knows its version")]
    public static partial void RunOfNewerVersion(ILogger logger, RunId runId, string flow, int version, int newest);

    [LoggerMessage(CairnEventId.ResumingOnChangedFlow, LogLevel.Information, "Run {RunId} of flow '{Flow}' started on v{RunVersion} (structure {RunFingerprint}) and resumes on v{Version} (structure {Fingerprint})")]
    public static partial void ResumingOnChangedFlow(ILogger logger, RunId runId, string flow, int runVersion, string runFingerprint, int version, string fingerprint);

    [LoggerMessage(CairnEventId.ParentNotWoken, LogLevel.Debug, "Parent run {RunId} of child run {ChildRunId} was not woken ({Reason}); it checks its child on its own timer")]
    private static partial void ParentNotWoken(ILogger logger, Exception exception, RunId runId, RunId childRunId, string reason);

    /// <summary>Why a parent could not be woken, in words that name no run: the exception carries the details.</summary>
    public static void ParentNotWoken(ILogger logger, RunId runId, RunId childRunId, Exception error) =>
        ParentNotWoken(logger, error, runId, childRunId, error switch
        {
            InvalidRunStateException => "it is not waiting",
            RunNotFoundException => "it no longer exists",
            _ => "the store is unavailable",
        });

    [LoggerMessage(CairnEventId.OutboxRetryScheduled, LogLevel.Warning, "Outbox message {MessageId} of run {RunId} to '{Destination}' failed on delivery {Attempt}; retry in {Delay}: {Error}")]
    public static partial void OutboxRetryScheduled(ILogger logger, Guid messageId, RunId runId, string destination, int attempt, TimeSpan delay, string error);

    [LoggerMessage(CairnEventId.OutboxDeadLettered, LogLevel.Error, "Outbox message {MessageId} of run {RunId} to '{Destination}' is dead-lettered after {Attempt} deliveries: {Error}")]
    public static partial void OutboxDeadLettered(ILogger logger, Guid messageId, RunId runId, string destination, int attempt, string error);

    [LoggerMessage(CairnEventId.RunStoreError, LogLevel.Error, "The store failed while {Action} run {RunId}; retrying in {Delay}")]
    public static partial void RunStoreError(ILogger logger, Exception exception, string action, RunId runId, TimeSpan delay);

    [LoggerMessage(CairnEventId.StageCompletionFound, LogLevel.Information, "Stage '{Stage}' of run {RunId} was completed in data source '{DataSource}' by attempt {RecordedAttempt} ({How}); attempt {Attempt} uses its recorded state")]
    public static partial void StageCompletionFound(ILogger logger, string stage, RunId runId, string dataSource, int recordedAttempt, string how, int attempt);

    [LoggerMessage(CairnEventId.StageCompletionsNotDeleted, LogLevel.Warning, "The stage completions of completed run {RunId} could not be deleted from data source '{DataSource}'; the purge deletes them later")]
    public static partial void StageCompletionsNotDeleted(ILogger logger, Exception exception, RunId runId, string dataSource);

    [LoggerMessage(CairnEventId.StageCompletionsNotPurged, LogLevel.Warning, "Stage completions older than {Cutoff} could not be purged from data source '{DataSource}'; the next purge tries again")]
    public static partial void StageCompletionsNotPurged(ILogger logger, Exception exception, DateTimeOffset cutoff, string dataSource);

    [LoggerMessage(CairnEventId.StreamsSwept, LogLevel.Information, "Swept {Count} stream content(s), {Bytes} bytes, that no kept checkpoint refers to and nothing touched since {Cutoff}")]
    public static partial void StreamsSwept(ILogger logger, int count, long bytes, DateTimeOffset cutoff);

    /// <summary>The SQLite store's log messages.</summary>
    public static partial class Sqlite
    {
        /// <summary>The logger category.</summary>
        public const string Category = "Cairn.Store.Sqlite";

        [LoggerMessage(CairnEventId.SqliteMigrationApplied, LogLevel.Information, "Applied schema migration {Version} ({Name}) to the SQLite database '{Path}'")]
        public static partial void MigrationApplied(ILogger logger, int version, string name, string path);

        [LoggerMessage(CairnEventId.SqliteSchemaReady, LogLevel.Debug, "The SQLite database '{Path}' is at schema version {Version}")]
        public static partial void SchemaReady(ILogger logger, string path, int version);

        [LoggerMessage(CairnEventId.SqliteWalUnavailable, LogLevel.Warning, "The SQLite database '{Path}' could not switch to the WAL journal and uses journal mode '{Mode}': readers now wait for writers (the file system may not support WAL)")]
        public static partial void WalUnavailable(ILogger logger, string path, string mode);

        [LoggerMessage(CairnEventId.SqliteWorkerLockAcquired, LogLevel.Information, "Worker lock '{LockPath}' taken by {Owner}")]
        public static partial void WorkerLockAcquired(ILogger logger, string lockPath, string owner);

        [LoggerMessage(CairnEventId.SqliteWorkerLockReleased, LogLevel.Information, "Worker lock '{LockPath}' released by {Owner}")]
        public static partial void WorkerLockReleased(ILogger logger, string lockPath, string owner);

        [LoggerMessage(CairnEventId.SqliteWorkerLockHeld, LogLevel.Warning, "Worker lock '{LockPath}' is held by another engine")]
        public static partial void WorkerLockHeld(ILogger logger, string lockPath);

        [LoggerMessage(CairnEventId.SqliteFencedWriteRefused, LogLevel.Debug, FencedWriteRefusedMessage)]
        public static partial void FencedWriteRefused(ILogger logger, RunId runId, long epoch);

        [LoggerMessage(CairnEventId.SqliteStreamUploadLeft, LogLevel.Warning, "Stream upload {Upload} in the SQLite database '{Path}' could not be discarded after its write failed ({Reason}); a later sweep discards it")]
        public static partial void StreamUploadLeft(ILogger logger, string path, long upload, string reason);
    }

    /// <summary>The PostgreSQL store's log messages.</summary>
    public static partial class Postgres
    {
        /// <summary>The logger category.</summary>
        public const string Category = "Cairn.Store.Postgres";

        [LoggerMessage(CairnEventId.PostgresMigrationApplied, LogLevel.Information, "Applied schema migration {Version} ({Name}) to {Database}, schema '{Schema}'")]
        public static partial void MigrationApplied(ILogger logger, int version, string name, string database, string schema);

        [LoggerMessage(CairnEventId.PostgresSchemaReady, LogLevel.Debug, "{Database}, schema '{Schema}', is at schema version {Version}")]
        public static partial void SchemaReady(ILogger logger, string database, string schema, int version);

        [LoggerMessage(CairnEventId.PostgresDatabaseUnreachable, LogLevel.Warning, "{Database} cannot be reached; idle pooled connections were dropped so that the next call reconnects")]
        public static partial void DatabaseUnreachable(ILogger logger, string database, Exception exception);

        [LoggerMessage(CairnEventId.PostgresGroupWriteFailed, LogLevel.Debug, "A write in a group commit of {Count} failed with SQL state {SqlState} and was rolled back alone")]
        public static partial void GroupWriteFailed(ILogger logger, int count, string sqlState);

        [LoggerMessage(CairnEventId.PostgresCreateRunRaced, LogLevel.Debug, "Run {RecoveryId} of flow '{FlowName}' was created by another node at the same moment; reading it")]
        public static partial void CreateRunRaced(ILogger logger, string flowName, string recoveryId);

        [LoggerMessage(CairnEventId.PostgresWakeUpsLost, LogLevel.Warning, "Wake-ups from {Database} on channel '{Channel}' were lost; listening again in {Delay} (engines keep polling meanwhile)")]
        public static partial void WakeUpsLost(ILogger logger, string database, string channel, TimeSpan delay, Exception exception);

        [LoggerMessage(CairnEventId.PostgresWakeUpsRestored, LogLevel.Information, "Listening again for wake-ups from {Database} on channel '{Channel}'")]
        public static partial void WakeUpsRestored(ILogger logger, string database, string channel);

        [LoggerMessage(CairnEventId.PostgresWakeUpsListening, LogLevel.Debug, "Listening for wake-ups from {Database} on channel '{Channel}'")]
        public static partial void WakeUpsListening(ILogger logger, string database, string channel);

        [LoggerMessage(CairnEventId.PostgresNodeLockLost, LogLevel.Debug, "The lock of node name '{Owner}' was already gone when released: {Reason}")]
        public static partial void NodeLockLost(ILogger logger, string owner, string reason);

        [LoggerMessage(CairnEventId.PostgresNodeLockConnectionLost, LogLevel.Warning, "The lock of node name '{Owner}' on {Database} was lost with its connection; taking it again in {Delay} (meanwhile the node does not count as the name's only live process)")]
        public static partial void NodeLockConnectionLost(ILogger logger, string owner, string database, TimeSpan delay, Exception exception);

        [LoggerMessage(CairnEventId.PostgresNodeLockInUse, LogLevel.Warning, "The lock of node name '{Owner}' on {Database} could not be taken again: another live process holds the name; trying again in {Delay}")]
        public static partial void NodeLockInUse(ILogger logger, string owner, string database, TimeSpan delay);

        [LoggerMessage(CairnEventId.PostgresNodeLockRestored, LogLevel.Information, "The lock of node name '{Owner}' on {Database} is held again")]
        public static partial void NodeLockRestored(ILogger logger, string owner, string database);

        [LoggerMessage(CairnEventId.PostgresGroupRetriedWithSavepoints, LogLevel.Debug, "A write in a group commit of {Count} failed with SQL state {SqlState}; the group is sent again with a savepoint around each write")]
        public static partial void GroupRetriedWithSavepoints(ILogger logger, int count, string sqlState);

        [LoggerMessage(CairnEventId.PostgresFencedWriteRefused, LogLevel.Debug, FencedWriteRefusedMessage)]
        public static partial void FencedWriteRefused(ILogger logger, RunId runId, long epoch);
    }

    /// <summary>The console's log messages (Cairn.AspNetCore), naming the operator who acted.</summary>
    public static partial class Console
    {
        /// <summary>The logger category.</summary>
        public const string Category = "Cairn.Console";

        [LoggerMessage(CairnEventId.ConsoleRunAction, LogLevel.Information, "{Action} of run {RunId} by {User} from the console")]
        public static partial void RunAction(ILogger logger, string action, RunId runId, string user);

        [LoggerMessage(CairnEventId.ConsoleScheduleAction, LogLevel.Information, "Schedule '{Schedule}': {Action} by {User} from the console")]
        public static partial void ScheduleAction(ILogger logger, string action, string schedule, string user);

        [LoggerMessage(CairnEventId.ConsoleBulkAction, LogLevel.Information, "Bulk {Action} by {User} from the console: {Changed} of {Matched} matching runs changed")]
        public static partial void BulkAction(ILogger logger, string action, string user, int changed, int matched);

        [LoggerMessage(CairnEventId.ConsolePurged, LogLevel.Information, "Purge by {User} from the console: {Count} runs finished more than {OlderThan} ago deleted")]
        public static partial void Purged(ILogger logger, string user, int count, TimeSpan olderThan);

        [LoggerMessage(CairnEventId.ConsoleOutboxRedriven, LogLevel.Information, "Outbox re-drive by {User} from the console: {Count} messages")]
        public static partial void OutboxRedriven(ILogger logger, string user, int count);

        [LoggerMessage(CairnEventId.ConsoleRemoteRefused, LogLevel.Warning, "Refused a console request from {RemoteAddress}: with no authorization configured the console answers loopback requests only")]
        public static partial void RemoteRefused(ILogger logger, string remoteAddress);

        [LoggerMessage(CairnEventId.ConsoleCsrfRefused, LogLevel.Warning, "Refused a console {Method} {Path} without a valid anti-forgery token: {Reason}")]
        public static partial void CsrfRefused(ILogger logger, string method, string path, string reason);
    }
}
