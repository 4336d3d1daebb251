-- Cairn PostgreSQL schema, version 3: the outbox and the compensation text of checkpoints. Applied inside the migration
-- transaction with search_path set to the store's schema: no BEGIN/COMMIT and no schema names here.

-- What the engine records of a run's compensations, as opaque text; null when the run has nothing to undo.
ALTER TABLE checkpoints ADD COLUMN compensation text;

-- Messages committed with checkpoints and completions, until delivered (then deleted). Status is the value of the
-- OutboxStatus enum (0 pending, 1 dead-lettered). A message is claimed by one dispatcher (owner) until claimed_until.
-- The rows go with their run (ON DELETE CASCADE), so purging a run purges its messages.
CREATE TABLE outbox (
    message_id          uuid        NOT NULL PRIMARY KEY,
    run_id              uuid        NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    checkpoint_sequence bigint      NOT NULL,
    idx                 integer     NOT NULL,
    destination         text        NOT NULL,
    payload             bytea       NOT NULL,
    status              integer     NOT NULL DEFAULT 0,
    attempts            integer     NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL,
    due_at              timestamptz,
    last_error          text,
    owner               text,
    claimed_until       timestamptz
);

-- Claims: pending messages oldest first, so that a claim reads the front of the queue only.
CREATE INDEX outbox_pending ON outbox (created_at, run_id, checkpoint_sequence, idx) WHERE status = 0;

-- A run's messages in commit order: the claim's "no earlier pending message of its run" check, listing by run, and the
-- cascade when a run is purged.
CREATE INDEX outbox_run_order ON outbox (run_id, checkpoint_sequence, idx);
