-- Cairn SQLite schema, version 1. Times are UTC ticks (100 ns since 0001-01-01), statuses and event kinds the values
-- of the RunStatus and RunEventKind enums. Applied inside the migration transaction: no BEGIN/COMMIT here.

CREATE TABLE runs (
    run_id              TEXT    NOT NULL PRIMARY KEY,
    flow_name           TEXT    NOT NULL,
    flow_version        INTEGER NOT NULL,
    recovery_id         TEXT    NOT NULL,
    status              INTEGER NOT NULL,
    attempt             INTEGER NOT NULL DEFAULT 0,
    retries_used        INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    due_at              INTEGER,
    finished_at         INTEGER,
    owner               TEXT,
    lease_epoch         INTEGER NOT NULL DEFAULT 0,
    lease_expires_at    INTEGER,
    position            TEXT    NOT NULL DEFAULT '',
    last_recovery_point TEXT,
    status_message      TEXT,
    last_error          TEXT,
    checkpoint_sequence INTEGER NOT NULL DEFAULT 0,
    input_checksum      TEXT    NOT NULL,
    settings            TEXT    NOT NULL,
    UNIQUE (flow_name, recovery_id)
);

-- Runs by status (status filters, purges) and due time.
CREATE INDEX runs_status_due_at ON runs (status, due_at);

-- Claims: claimable runs in the order they are claimed (oldest due first; a run without a due time by its last change),
-- so that a claim reads only the runs it takes however long the queue.
CREATE INDEX runs_claim_order ON runs (COALESCE(due_at, updated_at)) WHERE status IN (0, 2, 3);

-- The status list: newest first.
CREATE INDEX runs_created_at ON runs (created_at, run_id);

-- A run's serialized input (until it completes) and result (once it has). Kept out of the runs row on purpose: SQLite
-- rewrites a whole row on every UPDATE, and the runs row changes at every claim, checkpoint and lease renewal.
CREATE TABLE run_data (
    run_id TEXT NOT NULL PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
    input  BLOB,
    result BLOB
);

CREATE TABLE checkpoints (
    run_id         TEXT    NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    sequence       INTEGER NOT NULL,
    position       TEXT    NOT NULL,
    recovery_point TEXT    NOT NULL,
    status_message TEXT,
    checksum       TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    state          BLOB    NOT NULL,
    PRIMARY KEY (run_id, sequence)
);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id  TEXT    NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    time    INTEGER NOT NULL,
    kind    INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    message TEXT    NOT NULL
);

CREATE INDEX events_run_id ON events (run_id, id);
