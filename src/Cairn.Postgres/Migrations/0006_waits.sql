-- Cairn PostgreSQL schema, version 6 (issue 13): the signals delivered to runs. Runs waiting for a timer or a signal
-- (RunStatus.Waiting, 8) are claimable through claim_at like pending, retrying and interrupted ones, so they need no
-- index of their own. Applied with search_path set to the store's schema.

-- A signal is kept from its delivery until its run is purged (ON DELETE CASCADE); taken_by is the sequence of the
-- checkpoint that took it, null while it waits to be taken. id is the order signals were kept in; the signal's ID is
-- unique per run, so that a second delivery of one signal changes nothing.
CREATE TABLE signals (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id    uuid        NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    signal_id text        NOT NULL,
    name      text        NOT NULL,
    payload   bytea       NOT NULL,
    sent_at   timestamptz NOT NULL,
    taken_by  bigint,
    UNIQUE (run_id, signal_id)
);
