-- Issue 10: the compensation text a checkpoint carries, and the outbox of messages committed with checkpoints and
-- completions, delivered after commit by the engine's dispatcher. Times are UTC ticks, statuses the values of the
-- OutboxStatus enum (0 pending, 1 dead-lettered).

-- What the engine records of a run's compensations, as opaque text; null when there is nothing to undo.
ALTER TABLE checkpoints ADD COLUMN compensation TEXT;

-- A message lives here from its commit until it is delivered (deleted) or its run is purged (ON DELETE CASCADE). Its
-- rowid is its commit order. A claim sets owner and claimed_until; a failed delivery clears claimed_until.
CREATE TABLE outbox (
    message_id          TEXT    NOT NULL PRIMARY KEY,
    run_id              TEXT    NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    checkpoint_sequence INTEGER NOT NULL,
    idx                 INTEGER NOT NULL,
    destination         TEXT    NOT NULL,
    payload             BLOB    NOT NULL,
    status              INTEGER NOT NULL DEFAULT 0,
    attempts            INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    due_at              INTEGER,
    last_error          TEXT,
    owner               TEXT,
    claimed_until       INTEGER
);

-- Claims: pending messages oldest first (created_at, then rowid: commit order), read only as far as the claim takes.
CREATE INDEX outbox_claim_order ON outbox (created_at) WHERE status = 0;

-- A run's messages in their order: whether a pending message of the run comes before another (a claim takes the first
-- pending message of each run only), a run's listing, and the cascade when the run is purged.
CREATE INDEX outbox_run_order ON outbox (run_id, status, checkpoint_sequence, idx);
