namespace Cairn.Postgres;

/// <summary>The outbox's statements of a store's schema (see <see cref="PostgresSql"/>).</summary>
internal sealed class PostgresOutboxSql
{
    /// <param name="outbox">The outbox table, schema-qualified.</param>
    /// <param name="now">The SQL for the current time (see <see cref="PostgresSql"/>).</param>
    /// <param name="notifyRedriven">The CTE that wakes other nodes' dispatchers once messages are re-driven (on "redriven").</param>
    /// <param name="notified">The join that makes that CTE run.</param>
    public PostgresOutboxSql(string outbox, string now, string notifyRedriven, string notified)
    {
        // The outbox. A claim takes, oldest first, due pending messages that nobody claims (or whose claim expired) and
        // that are the first pending message of their run; SKIP LOCKED: dispatchers on other nodes pass over the messages
        // this one is taking, and a row claimed meanwhile fails the recheck of the claim condition.
        const string OutboxColumnList = "message_id, run_id, checkpoint_sequence, idx, destination, payload, status, attempts, created_at, due_at, last_error";
        const string OutboxOrder = "created_at, run_id, checkpoint_sequence, idx";
        Claim = $"""
            WITH candidates AS (
                SELECT o.message_id FROM {outbox} o
                WHERE o.status = 0 AND o.due_at <= {now} AND (o.claimed_until IS NULL OR o.claimed_until <= {now})
                    AND NOT EXISTS (
                        SELECT FROM {outbox} e
                        WHERE e.run_id = o.run_id AND e.status = 0 AND (e.checkpoint_sequence, e.idx) < (o.checkpoint_sequence, o.idx))
                ORDER BY o.created_at, o.run_id, o.checkpoint_sequence, o.idx
                LIMIT @max_messages
                FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE {outbox} o SET owner = @owner, claimed_until = {now} + @claim_us * interval '1 microsecond', attempts = o.attempts + 1
                FROM candidates c WHERE o.message_id = c.message_id
                RETURNING {string.Join(", ", OutboxColumnList.Split(", ").Select(column => "o." + column))}
            )
            SELECT {OutboxColumnList} FROM claimed ORDER BY {OutboxOrder}
            """;

        MarkDelivered = $"""
            WITH delivered AS (
                DELETE FROM {outbox} WHERE message_id = ANY(@ids) AND owner = @owner AND claimed_until IS NOT NULL
                RETURNING 1
            )
            SELECT count(*)::integer FROM delivered
            """;

        MarkFailed = $"""
            WITH failed AS (
                UPDATE {outbox} SET claimed_until = NULL, last_error = @error, due_at = @retry_at,
                    status = CASE WHEN @retry_at::timestamptz IS NULL THEN 1 ELSE 0 END
                WHERE message_id = @id AND owner = @owner AND claimed_until IS NOT NULL
                RETURNING 1
            )
            SELECT count(*)::integer FROM failed
            """;

        List = $"""
            SELECT {OutboxColumnList} FROM {outbox}
            WHERE (@status::integer IS NULL OR status = @status) AND (@run_id::uuid IS NULL OR run_id = @run_id)
            ORDER BY {OutboxOrder}
            LIMIT @limit
            """;

        Redrive = $"""
            WITH redriven AS (
                UPDATE {outbox} SET status = 0, due_at = {now}, attempts = 0, last_error = NULL
                WHERE status = 1 AND (@ids::uuid[] IS NULL OR message_id = ANY(@ids))
                RETURNING 1
            ), {notifyRedriven}
            SELECT count(*)::integer FROM redriven {notified}
            """;
    }

    public string Claim { get; }

    public string MarkDelivered { get; }

    public string MarkFailed { get; }

    public string List { get; }

    public string Redrive { get; }
}
