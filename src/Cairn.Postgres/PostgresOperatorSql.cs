namespace Cairn.Postgres;

/// <summary>Makes the CTE that wakes listening nodes when the statement commits: from <paramref name="source"/>, where <paramref name="condition"/>, with <paramref name="payload"/>.</summary>
internal delegate string NotifyCte(string source, string condition = "true", string payload = "");

/// <summary>The statements of operator actions on a store's schema (see <see cref="PostgresSql"/>).</summary>
internal sealed class PostgresOperatorSql
{
    /// <param name="runs">The runs table, schema-qualified.</param>
    /// <param name="checkpoints">The checkpoints table, schema-qualified.</param>
    /// <param name="events">The events table, schema-qualified.</param>
    /// <param name="now">The SQL for the current time (see <see cref="PostgresSql"/>).</param>
    /// <param name="r">The run columns prefixed with <c>r.</c>.</param>
    /// <param name="notify">Makes the CTE that wakes other nodes: its source, condition and payload.</param>
    /// <param name="notified">The join that makes that CTE run.</param>
    public PostgresOperatorSql(string runs, string checkpoints, string events, string now, string r, NotifyCte notify, string notified)
    {
        // Operator actions: the run's status under a row lock, and the change only when the status allows it. The result
        // row carries the status either way, so that the caller can tell "not found" from "not allowed".
        RequestRerun = $"""
            WITH target AS (
                SELECT run_id, status FROM {runs} WHERE run_id = @run_id FOR NO KEY UPDATE
            ), rerun AS (
                UPDATE {runs} r SET status = 0, due_at = {now}, claim_at = {now}, finished_at = NULL, updated_at = {now}
                FROM target WHERE r.run_id = target.run_id AND target.status = ANY(@allowed)
                RETURNING {r}
            ), event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message, recovery_point) SELECT run_id, {now}, 7, attempt, @message, last_recovery_point FROM rerun
            ), {notify("rerun")}
            SELECT target.status, {PostgresSql.Columns("rerun.")} FROM target LEFT JOIN rerun ON true {notified}
            """;

        // A re-run from a chosen checkpoint: the copy, the run's move to it and the event hang on "source", which holds a
        // row only when the run may be re-run and keeps the checkpoint; the result row's status tells the caller which
        // of the two failed. The copy reads the state inside the database, so an unedited one never travels. The event's
        // wording mirrors RunStore.RerunFromMessage, which this statement cannot call; the contract suite checks both.
        GetCheckpoints = $"""
            SELECT sequence, position, recovery_point, status_message, checksum, created_at, octet_length(state)
            FROM {checkpoints} WHERE run_id = @run_id ORDER BY sequence DESC
            """;

        GetCheckpoint = $"""
            SELECT position, recovery_point, status_message, state, checksum, created_at, streams
            FROM {checkpoints} WHERE run_id = @run_id AND sequence = @sequence
            """;

        RequestRerunFrom = $"""
            WITH target AS (
                SELECT run_id, status, checkpoint_sequence FROM {runs} WHERE run_id = @run_id FOR NO KEY UPDATE
            ), source AS (
                SELECT c.run_id, c.sequence, c.position, c.recovery_point, c.status_message,
                    GREATEST(t.checkpoint_sequence, (SELECT max(sequence) FROM {checkpoints} WHERE run_id = t.run_id)) + 1 AS copy_sequence
                FROM target t JOIN {checkpoints} c ON c.run_id = t.run_id AND c.sequence = @sequence
                WHERE t.status = ANY(@allowed)
            ), copied AS (
                INSERT INTO {checkpoints} (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state, compensation, streams)
                SELECT s.run_id, s.copy_sequence, c.position, c.recovery_point, c.status_message, COALESCE(@checksum, c.checksum), {now},
                    COALESCE(@state, c.state), c.compensation, c.streams
                FROM source s JOIN {checkpoints} c ON c.run_id = s.run_id AND c.sequence = s.sequence
            ), rerun AS (
                UPDATE {runs} r SET status = 0, due_at = {now}, claim_at = {now}, finished_at = NULL, updated_at = {now},
                    position = s.position, last_recovery_point = s.recovery_point, status_message = s.status_message,
                    checkpoint_sequence = s.copy_sequence
                FROM source s WHERE r.run_id = s.run_id
                RETURNING {r}, s.sequence AS source_sequence
            ), event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message, recovery_point)
                SELECT run_id, {now}, 7, attempt,
                    @message || ': resumes from recovery point ''' || last_recovery_point || ''' (checkpoint ' || source_sequence ||
                    ', copied as checkpoint ' || checkpoint_sequence || ') with ' ||
                    CASE WHEN @state IS NULL THEN 'its saved state' ELSE 'an edited state' END,
                    last_recovery_point
                FROM rerun
            ), {notify("rerun")}
            SELECT target.status, {PostgresSql.Columns("rerun.")} FROM target LEFT JOIN rerun ON true {notified}
            """;

        CancelRun = $"""
            WITH target AS (
                SELECT run_id, status FROM {runs} WHERE run_id = @run_id FOR NO KEY UPDATE
            ), cancelled AS (
                UPDATE {runs} r SET status = 6, lease_epoch = r.lease_epoch + 1, lease_expires_at = NULL, due_at = NULL,
                    claim_at = NULL, finished_at = {now}, updated_at = {now}
                FROM target WHERE r.run_id = target.run_id AND target.status = ANY(@allowed)
                RETURNING {r}
            ), event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message) SELECT run_id, {now}, 8, attempt, @message FROM cancelled
            )
            SELECT target.status, {PostgresSql.Columns("cancelled.")} FROM target LEFT JOIN cancelled ON true
            """;

        // A request to compensate: a copy of the latest checkpoint, numbered after it, with the compensation text; the
        // run pending at the copy under a new epoch (StoreRules.CompensationRequested); the event. All hang on "source",
        // which holds a row only when the status allows it and the run has a checkpoint; the result row's status and
        // "has_checkpoint" tell the caller which failed.
        RequestCompensation = $"""
            WITH target AS (
                SELECT run_id, status, checkpoint_sequence FROM {runs} WHERE run_id = @run_id FOR NO KEY UPDATE
            ), latest AS (
                SELECT c.run_id, c.sequence, c.recovery_point FROM {checkpoints} c JOIN target t ON c.run_id = t.run_id
                ORDER BY c.sequence DESC LIMIT 1
            ), source AS (
                SELECT l.run_id, l.sequence, l.recovery_point, GREATEST(t.checkpoint_sequence, l.sequence) + 1 AS copy_sequence
                FROM latest l JOIN target t ON t.run_id = l.run_id
                WHERE t.status = ANY(@allowed)
            ), copied AS (
                INSERT INTO {checkpoints} (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state, compensation, streams)
                SELECT s.run_id, s.copy_sequence, c.position, c.recovery_point, c.status_message, c.checksum, {now}, c.state, @compensation, c.streams
                FROM source s JOIN {checkpoints} c ON c.run_id = s.run_id AND c.sequence = s.sequence
            ), requested AS (
                UPDATE {runs} r SET status = 0, lease_epoch = r.lease_epoch + 1, lease_expires_at = NULL, due_at = {now}, claim_at = {now},
                    finished_at = NULL, checkpoint_sequence = s.copy_sequence, updated_at = {now}
                FROM source s WHERE r.run_id = s.run_id
                RETURNING {r}, s.recovery_point AS source_recovery_point
            ), event AS (
                INSERT INTO {events} (run_id, time, kind, attempt, message, recovery_point)
                SELECT run_id, {now}, 12, attempt, @message, source_recovery_point FROM requested
            ), {notify("requested")}
            SELECT target.status, {PostgresSql.Columns("requested.")}, EXISTS (SELECT FROM latest) AS has_checkpoint
            FROM target LEFT JOIN requested ON true {notified}
            """;
    }

    public string RequestRerun { get; }

    public string GetCheckpoints { get; }

    public string GetCheckpoint { get; }

    public string RequestRerunFrom { get; }

    public string CancelRun { get; }

    public string RequestCompensation { get; }
}
