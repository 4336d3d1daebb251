-- Cairn PostgreSQL schema, version 1. Applied inside the migration transaction with search_path set to the store's
-- schema: no BEGIN/COMMIT and no schema names here. Statuses and event kinds are the values of the RunStatus and
-- RunEventKind enums; every time comes from the database's clock.

CREATE TABLE runs (
    run_id              uuid        NOT NULL PRIMARY KEY,
    flow_name           text        NOT NULL,
    flow_version        integer     NOT NULL,
    recovery_id         text        NOT NULL,
    status              integer     NOT NULL,
    attempt             integer     NOT NULL DEFAULT 0,
    retries_used        integer     NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    due_at              timestamptz,
    finished_at         timestamptz,
    -- The claim order of a claimable run (pending, waiting for a retry, interrupted): its due time, or for a run without
    -- one the time it became claimable; null in every other status. A column of its own rather than an index on
    -- COALESCE(due_at, updated_at) so that checkpoints and lease renewals, which change neither, stay HOT updates.
    claim_at            timestamptz,
    owner               text,
    lease_epoch         bigint      NOT NULL DEFAULT 0,
    lease_expires_at    timestamptz,
    position            text        NOT NULL DEFAULT '',
    last_recovery_point text,
    status_message      text,
    last_error          text,
    checkpoint_sequence bigint      NOT NULL DEFAULT 0,
    input_checksum      text        NOT NULL,
    settings            text        NOT NULL,
    CONSTRAINT runs_flow_name_recovery_id UNIQUE (flow_name, recovery_id)
) WITH (fillfactor = 80); -- Room on each page for HOT updates: the row changes at every claim, checkpoint and renewal.

-- Claims: claimable runs in claim order, so that a claim reads only the runs it takes however long the queue.
CREATE INDEX runs_claim_at ON runs (claim_at) WHERE claim_at IS NOT NULL;

-- Lease renewals and the search for expired leases: running runs only.
CREATE INDEX runs_running_owner ON runs (owner) WHERE status = 1;

-- The status list, newest first, with or without a status filter.
CREATE INDEX runs_created_at ON runs (created_at, run_id);
CREATE INDEX runs_status_created_at ON runs (status, created_at);

-- Purges.
CREATE INDEX runs_finished_at ON runs (finished_at) WHERE finished_at IS NOT NULL;

-- A run's serialized input (until it completes) and result (once it has), out of the runs row that changes so often.
CREATE TABLE run_data (
    run_id uuid  NOT NULL PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
    input  bytea,
    result bytea
);

CREATE TABLE checkpoints (
    run_id         uuid        NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    sequence       bigint      NOT NULL,
    position       text        NOT NULL,
    recovery_point text        NOT NULL,
    status_message text,
    checksum       text        NOT NULL,
    created_at     timestamptz NOT NULL,
    state          bytea       NOT NULL,
    PRIMARY KEY (run_id, sequence)
);

CREATE TABLE events (
    run_id  uuid        NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    id      bigint      GENERATED ALWAYS AS IDENTITY,
    time    timestamptz NOT NULL,
    kind    integer     NOT NULL,
    attempt integer     NOT NULL,
    message text        NOT NULL,
    PRIMARY KEY (run_id, id)
);
