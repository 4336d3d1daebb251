using System.Globalization;

namespace Cairn.Postgres;

/// <summary>
/// The store's SQL, built once per store for its schema. Every write is one statement whose data changes all hang on
/// one fenced or conditional CTE, so a write that loses its fence changes nothing and raises no error: the group commit
/// transaction it shares goes on. Each write returns one result set.
/// </summary>
internal sealed class PostgresSql
{
    /// <summary>The columns <see cref="PostgresRunStore"/> reads into a run record, in order.</summary>
    public const string RunColumnList =
        "run_id, flow_name, flow_version, recovery_id, status, attempt, retries_used, created_at, updated_at, due_at, " +
        "finished_at, owner, lease_epoch, lease_expires_at, position, last_recovery_point, status_message, last_error, " +
        "checkpoint_sequence, input_checksum, settings";

    /// <summary>The wording of a new attempt's Started event, for <c>format()</c> (@started_format): attempt, owner.</summary>
    public static readonly string StartedFormat = DatabaseFormat(StoreRules.StartedMessageFormat(resumed: false));

    /// <summary>The wording of a resumed attempt's Started event (@resumed_format): attempt, owner, recovery point.</summary>
    public static readonly string ResumedFormat = DatabaseFormat(StoreRules.StartedMessageFormat(resumed: true));

    /// <summary>The wording of the Interrupted event of a run whose owner is gone (@gone_format): owner.</summary>
    public static readonly string GoneFormat = DatabaseFormat(StoreRules.InterruptedMessageFormat);

    /// <param name="schema">The validated schema name.</param>
    /// <param name="now">
    /// The SQL for the current time: <c>now()</c>, the database's clock (the start of the transaction, so one write's
    /// times agree), or the <c>@now</c> parameter under a test clock.
    /// </param>
    public PostgresSql(string schema, string now)
    {
        Schema = schema;
        var runs = $"\"{schema}\".runs";
        var runData = $"\"{schema}\".run_data";
        var checkpoints = $"\"{schema}\".checkpoints";
        var events = $"\"{schema}\".events";
        var outbox = $"\"{schema}\".outbox";
        var r = Columns("r.");
        const string Fence = "run_id = @run_id AND lease_epoch = @epoch AND status = 1";
        const string Micros = "* interval '1 microsecond'"; // Durations travel as microseconds: exact, and no DST rules.

        SchemaVersionTable = $"\"{schema}\".schema_version";

        // Channel names are identifiers: at most 63 bytes. The schema name is validated, so it needs no quoting.
        var channel = $"cairn_{schema}";
        WakeUpChannel = channel.Length > 63 ? channel[..63] : channel;
        Listen = $"LISTEN \"{WakeUpChannel}\"";

        // NOTIFY is a hint to listening nodes that a run may be due: it is sent when the transaction commits, duplicates
        // within a transaction are merged, and a node that misses it finds the run at its next poll. A CTE without data
        // changes runs only when referenced, hence the count the final SELECT joins (always one row).
        string Notify(string source, string condition = "true", string payload = "") =>
            $"notified AS (SELECT pg_notify('{WakeUpChannel}', '{payload}') FROM {source} WHERE {condition} LIMIT 1)";
        const string Notified = "CROSS JOIN (SELECT count(*) FROM notified) notified_count";

        // The outbox messages of a fenced write, all in one INSERT from parallel arrays (@outbox_*), hanging on the write's
        // "run" CTE: a write that lost its fence adds none. A message committed again (same ID: same run, checkpoint and
        // place) is kept once. The NOTIFY, with the payload 'outbox', wakes the dispatchers of the other nodes.
        var insertOutbox = $"""
            outboxed AS (
                INSERT INTO {outbox} (message_id, run_id, checkpoint_sequence, idx, destination, payload, status, attempts, created_at, due_at)
                SELECT m.message_id, run.run_id, m.checkpoint_sequence, m.idx, m.destination, m.payload, 0, 0, {now}, {now}
                FROM run CROSS JOIN unnest(@outbox_ids, @outbox_sequences, @outbox_indexes, @outbox_destinations, @outbox_payloads)
                    AS m(message_id, checkpoint_sequence, idx, destination, payload)
                ON CONFLICT (message_id) DO NOTHING
                RETURNING 1
            ), {Notify("outboxed", payload: OutboxNotification)}
            """;

        // @owner set: the run is created already claimed by it (status Running, attempt and epoch 1, a lease), with its
        // Started event after the Created one, and no wake-up since no other node should take it.
        CreateRun = $"""
            WITH created AS (
                INSERT INTO {runs} (run_id, flow_name, flow_version, recovery_id, status, attempt, owner, lease_epoch, lease_expires_at,
                    created_at, updated_at, due_at, claim_at, input_checksum, settings)
                SELECT @run_id, @flow_name, @flow_version, @recovery_id, c.status, c.status, @owner, c.status,
                    CASE WHEN c.claimed THEN {now} + @lease_us {Micros} END,
                    {now}, {now}, CASE WHEN NOT c.claimed THEN {now} END, CASE WHEN NOT c.claimed THEN {now} END, @input_checksum, @settings
                FROM (SELECT @owner::text IS NOT NULL AS claimed, CASE WHEN @owner::text IS NULL THEN 0 ELSE 1 END AS status) c
                ON CONFLICT (flow_name, recovery_id) DO NOTHING
                RETURNING {RunColumnList}
            ), data AS (
                INSERT INTO {runData} (run_id, input) SELECT run_id, @input FROM created
            ), event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message)
                SELECT run_id, created_at, e.kind, e.kind, e.message
                FROM created CROSS JOIN (VALUES (0, @message), (1, format(@started_format, 1, @owner::text))) e(kind, message)
                WHERE e.kind = 0 OR @owner::text IS NOT NULL
                ORDER BY e.kind
            ), {Notify("created", "@owner::text IS NULL")}
            SELECT true, {RunColumnList} FROM created {Notified}
            UNION ALL
            SELECT false, {RunColumnList} FROM {runs}
            WHERE flow_name = @flow_name AND recovery_id = @recovery_id AND NOT EXISTS (SELECT FROM created)
            """;

        GetRun = $"SELECT {RunColumnList} FROM {runs} WHERE run_id = @run_id";

        FindRun = $"SELECT {RunColumnList} FROM {runs} WHERE flow_name = @flow_name AND recovery_id = @recovery_id";

        ListRuns = $"SELECT {RunColumnList} FROM {runs}";
        CountRuns = $"SELECT status, count(*) FROM {runs}";

        GetEvents = $"SELECT time, kind, attempt, message, recovery_point FROM {events} WHERE run_id = @run_id ORDER BY id";

        // One statement, so the input and the checkpoint come from the same snapshot.
        GetRecoveryData = $"""
            SELECT d.input, c.sequence, c.position, c.recovery_point, c.status_message, c.checksum, c.created_at, c.state, c.compensation, c.streams
            FROM {runs} r
            LEFT JOIN {runData} d ON d.run_id = r.run_id
            LEFT JOIN LATERAL (
                SELECT * FROM {checkpoints} WHERE run_id = r.run_id ORDER BY sequence DESC LIMIT 1
            ) c ON true
            WHERE r.run_id = @run_id
            """;

        GetResult = $"SELECT result FROM {runData} WHERE run_id = @run_id";

        // SKIP LOCKED: claimers on other nodes pass over the runs this one is taking instead of waiting for them. NO KEY
        // UPDATE is the lock the UPDATE takes anyway; unlike FOR UPDATE it lets foreign-key checks of event inserts by
        // the run's other writers through. The Started message is worded by StoreRules, whose formats come as parameters.
        ClaimDueRuns = $"""
            WITH due AS (
                SELECT run_id, claim_at FROM {runs}
                WHERE claim_at <= {now} AND status IN (0, 2, 3, 8) AND (@resume_interrupted OR status <> 3) AND flow_name = ANY(@flow_names)
                ORDER BY claim_at, created_at, run_id
                LIMIT @max_runs
                FOR NO KEY UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE {runs} r SET status = 1, attempt = r.attempt + 1, owner = @owner, lease_epoch = r.lease_epoch + 1,
                    lease_expires_at = {now} + @lease_us {Micros}, due_at = NULL, claim_at = NULL, updated_at = {now}
                FROM due WHERE r.run_id = due.run_id
                RETURNING {r}, due.claim_at AS claim_order
            ), started AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message, recovery_point)
                SELECT run_id, updated_at, 1, attempt,
                    format(CASE WHEN last_recovery_point IS NULL THEN @started_format ELSE @resumed_format END, attempt, @owner::text,
                        last_recovery_point),
                    last_recovery_point
                FROM claimed ORDER BY claim_order, created_at, run_id
            )
            SELECT {RunColumnList} FROM claimed ORDER BY claim_order, created_at, run_id
            """;

        // Rows that a group commit in flight holds are skipped, not waited for: with several group commits at once, waiting
        // could deadlock with a group that holds one of them and waits for another; the next heartbeat renews them.
        RenewLeases = $"""
            WITH renewed AS (
                UPDATE {runs} SET lease_expires_at = {now} + @lease_us {Micros}
                WHERE run_id IN (SELECT run_id FROM {runs} WHERE status = 1 AND owner = @owner FOR UPDATE SKIP LOCKED)
                  AND status = 1 AND owner = @owner
                RETURNING 1
            )
            SELECT count(*)::integer FROM renewed
            """;

        // A fenced write: the run moves ('set') only while the lease holds; what follows ('then', reading the "run" CTE) and
        // the outbox messages write nothing otherwise. Returns the attempt, no row when fenced out. 'notifies': 'then' notifies.
        string FencedWrite(string set, string then, bool outbox, bool notifies = false) => $"""
            WITH run AS (
                UPDATE {runs} SET {set}
                WHERE {Fence}
                RETURNING run_id, attempt
            ), {then}{(outbox ? $", {insertOutbox}" : "")}
            SELECT attempt FROM run{(outbox || notifies ? $" {Notified}" : "")}
            """;

        // Pruning runs in the statement's snapshot, which does not hold the new checkpoint yet: it keeps the newest
        // @keep of the stored sequences and the new one, and never touches the row the upsert writes.
        // A checkpoint that takes a signal marks it taken in the same statement.
        var signals = $"\"{schema}\".signals";
        string SaveCheckpointSql(bool outbox, bool takesSignal = false) => FencedWrite(
            $"position = @position, last_recovery_point = @recovery_point, status_message = @status_message, checkpoint_sequence = @sequence, updated_at = {now}",
            $"""
            saved AS (
                INSERT INTO {checkpoints} (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state, compensation, streams)
                SELECT run_id, @sequence, @position, @recovery_point, @status_message, @checksum, {now}, @state, @compensation, @streams FROM run
                ON CONFLICT (run_id, sequence) DO UPDATE SET position = EXCLUDED.position, recovery_point = EXCLUDED.recovery_point,
                    status_message = EXCLUDED.status_message, checksum = EXCLUDED.checksum, created_at = EXCLUDED.created_at, state = EXCLUDED.state,
                    compensation = EXCLUDED.compensation, streams = EXCLUDED.streams
            ), pruned AS (
                DELETE FROM {checkpoints}
                WHERE run_id = (SELECT run_id FROM run) AND sequence < (
                    SELECT min(sequence) FROM (
                        SELECT sequence FROM {checkpoints} WHERE run_id = @run_id
                        UNION SELECT @sequence
                        ORDER BY 1 DESC LIMIT @keep
                    ) newest)
            ), passed AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message, recovery_point) SELECT run_id, {now}, 2, attempt, @message, @recovery_point FROM run
            ){(takesSignal ? $", taken AS (UPDATE {signals} SET taken_by = @sequence WHERE run_id = (SELECT run_id FROM run) AND signal_id = @takes_signal)" : "")}
            """,
            outbox);

        SaveCheckpoint = SaveCheckpointSql(outbox: false);
        SaveCheckpointWithOutbox = SaveCheckpointSql(outbox: true);
        SaveCheckpointTakingSignal = SaveCheckpointSql(outbox: true, takesSignal: true);

        // The signal is kept only for an unfinished run; a run waiting for it is made due at once and the other nodes woken.
        // The result row carries the run's status (no row: no such run) and whether the signal was new.
        SendSignal = $"""
            WITH target AS (
                SELECT run_id, status, attempt, last_recovery_point FROM {runs} WHERE run_id = @run_id FOR NO KEY UPDATE
            ), kept AS (
                INSERT INTO {signals} (run_id, signal_id, name, payload, sent_at)
                SELECT run_id, @signal_id, @name, @payload, {now} FROM target WHERE status NOT IN (4, 5, 6, 7)
                ON CONFLICT (run_id, signal_id) DO NOTHING
                RETURNING run_id
            ), woken AS (
                UPDATE {runs} r SET due_at = {now}, claim_at = {now}, updated_at = {now}
                FROM kept WHERE r.run_id = kept.run_id AND r.status = 8
                RETURNING r.run_id
            ), event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message, recovery_point)
                SELECT target.run_id, {now}, 14, target.attempt, @message, target.last_recovery_point FROM target JOIN kept ON true
            ), {Notify("woken")}
            SELECT target.status, (SELECT count(*) FROM kept) > 0 FROM target {Notified}
            """;

        ListSignals = $"SELECT signal_id, name, payload, sent_at, taken_by FROM {signals} WHERE run_id = @run_id ORDER BY id";

        Transition = FencedWrite(
            $"""
            status = @status, last_error = COALESCE(@last_error, last_error),
                due_at = {now} + @retry_after_us {Micros},
                claim_at = CASE WHEN @claimable THEN COALESCE({now} + @retry_after_us {Micros}, {now}) END,
                retries_used = retries_used + @retry, finished_at = CASE WHEN @finished THEN {now} END,
                lease_expires_at = NULL, updated_at = {now}
            """,
            $"""
            event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message) SELECT run_id, {now}, @kind, attempt, @message FROM run
            ), {Notify("run", "@claimable AND @retry_after_us IS NULL")}
            """,
            outbox: false, notifies: true);

        string CompleteRunSql(bool outbox) => FencedWrite(
            $"status = 4, finished_at = {now}, lease_expires_at = NULL, updated_at = {now}",
            $"""
            data AS (
                INSERT INTO {runData} (run_id, input, result) SELECT run_id, NULL, @result FROM run
                ON CONFLICT (run_id) DO UPDATE SET input = NULL, result = EXCLUDED.result
            ), recovery AS (
                DELETE FROM {checkpoints} WHERE run_id = (SELECT run_id FROM run)
            ), event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message) SELECT run_id, {now}, 5, attempt, @message FROM run
            )
            """,
            outbox);

        CompleteRun = CompleteRunSql(outbox: false);
        CompleteRunWithOutbox = CompleteRunSql(outbox: true);

        // SKIP LOCKED: a run whose row is locked is being written by its owner or taken by another node right now; the
        // next pass finds it if its lease is still expired. Exclusive: the caller holds the node lock of its name, so
        // the runs still owned by that name belong to an earlier process that is gone.
        InterruptAbandonedRuns = $"""
            WITH gone AS (
                SELECT run_id FROM {runs}
                WHERE status = 1 AND (lease_expires_at <= {now} OR (@exclusive AND owner = @owner))
                FOR NO KEY UPDATE SKIP LOCKED
            ), interrupted AS (
                UPDATE {runs} r SET status = 3, lease_expires_at = NULL, due_at = {now} + @resume_after_us {Micros},
                    claim_at = {now} + @resume_after_us {Micros}, updated_at = {now}
                FROM gone WHERE r.run_id = gone.run_id
                RETURNING r.run_id, r.owner, r.attempt, r.created_at, r.last_recovery_point
            ), event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message, recovery_point)
                SELECT run_id, {now}, 6, attempt, format(@gone_format, owner),
                    last_recovery_point
                FROM interrupted ORDER BY created_at, run_id
            ), {Notify("interrupted", "@resume_after_us <= 0")}
            SELECT count(*)::integer FROM interrupted {Notified}
            """;

        Operators = new PostgresOperatorSql(runs, checkpoints, events, now, r, Notify, Notified);
        Outbox = new PostgresOutboxSql(outbox, now, Notify("redriven", payload: OutboxNotification), Notified);
        Streams = new PostgresStreamSql(schema, now);

        // A run's data, checkpoints, events and outbox messages go with it, deleted here (no foreign keys on them, see
        // migration 0008); its signals by ON DELETE CASCADE. The count is of runs only.
        string WithRun(string table) => $"DELETE FROM {table} WHERE run_id IN (SELECT run_id FROM purged)";
        Purge = $"""
            WITH purged AS (
                DELETE FROM {runs} WHERE status IN (4, 5, 6, 7) AND finished_at < @finished_before RETURNING run_id
            ), data AS ({WithRun(runData)}), saved AS ({WithRun(checkpoints)}), logged AS ({WithRun(events)}), outboxed AS ({WithRun(outbox)})
            SELECT count(*)::integer FROM purged
            """;
    }

    public string Schema { get; }

    public string SchemaVersionTable { get; }

    /// <summary>The channel of the store's wake-up notifications: <c>cairn_</c> and the schema name.</summary>
    public string WakeUpChannel { get; }

    /// <summary>
    /// The payload of the notification on <see cref="WakeUpChannel"/> that a commit sends when it added outbox messages
    /// (or re-drove some), so that the dispatchers of other nodes look for them; other wake-ups have an empty payload.
    /// </summary>
    public const string OutboxNotification = "outbox";

    /// <summary>Subscribes a connection to <see cref="WakeUpChannel"/>.</summary>
    public string Listen { get; }

    public string CreateRun { get; }

    public string GetRun { get; }

    public string FindRun { get; }

    /// <summary>The start of the list query; the caller adds the filters, order and limit.</summary>
    public string ListRuns { get; }

    public string CountRuns { get; }

    public string GetEvents { get; }

    public string GetRecoveryData { get; }

    public string GetResult { get; }

    public string ClaimDueRuns { get; }

    public string RenewLeases { get; }

    public string SaveCheckpoint { get; }

    public string Transition { get; }

    public string CompleteRun { get; }

    public string InterruptAbandonedRuns { get; }

    public string Purge { get; }

    /// <summary>Like <see cref="SaveCheckpoint"/>, and adds the checkpoint's outbox messages (@outbox_* arrays).</summary>
    public string SaveCheckpointWithOutbox { get; }

    /// <summary>Like <see cref="SaveCheckpointWithOutbox"/>, and marks the signal @takes_signal taken by the checkpoint.</summary>
    public string SaveCheckpointTakingSignal { get; }

    /// <summary>Keeps a signal for a run and wakes the run if it waits: @run_id, @signal_id, @name, @payload, @message.</summary>
    public string SendSignal { get; }

    /// <summary>A run's signals in the order they were kept: @run_id.</summary>
    public string ListSignals { get; }

    /// <summary>Like <see cref="CompleteRun"/>, and adds the completion's outbox messages (@outbox_* arrays).</summary>
    public string CompleteRunWithOutbox { get; }

    /// <summary>The operator actions' statements.</summary>
    public PostgresOperatorSql Operators { get; }

    /// <summary>The outbox's statements.</summary>
    public PostgresOutboxSql Outbox { get; }

    /// <summary>The stream store's statements.</summary>
    public PostgresStreamSql Streams { get; }

    internal static string Columns(string prefix) =>
        string.Join(", ", RunColumnList.Split(", ").Select(column => prefix + column));

    /// <summary>A composite format of the core's wording (<c>{0}</c>, <c>{1}</c>, …) as a format string of PostgreSQL's <c>format()</c>.</summary>
    private static string DatabaseFormat(string composite)
    {
        var format = composite.Replace("%", "%%", StringComparison.Ordinal);
        for (var argument = 0; argument < 10; argument++)
        {
            format = format.Replace(
                string.Create(CultureInfo.InvariantCulture, $"{{{argument}}}"),
                string.Create(CultureInfo.InvariantCulture, $"%{argument + 1}$s"),
                StringComparison.Ordinal);
        }

        return format;
    }
}
