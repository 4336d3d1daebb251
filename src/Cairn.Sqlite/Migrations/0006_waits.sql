-- Issue 13: runs that wait without a slot for a timer or a signal (RunStatus.Waiting, 8) are claimable when due, like
-- pending, retrying and interrupted ones; and the signals delivered to runs.

DROP INDEX runs_claim_order;
CREATE INDEX runs_claim_order ON runs (COALESCE(due_at, updated_at)) WHERE status IN (0, 2, 3, 8);

-- A signal is kept from its delivery until its run is purged (ON DELETE CASCADE); taken_by is the sequence of the
-- checkpoint that took it, null while it waits to be taken. Its rowid is the order signals were kept in; its ID is
-- unique per run, so that a second delivery of one signal changes nothing. Times are UTC ticks.
CREATE TABLE signals (
    id        INTEGER PRIMARY KEY,
    run_id    TEXT    NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    signal_id TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    payload   BLOB    NOT NULL,
    sent_at   INTEGER NOT NULL,
    taken_by  INTEGER,
    UNIQUE (run_id, signal_id)
);
