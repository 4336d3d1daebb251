-- Cairn PostgreSQL schema, version 4: the flows engines have registered, with their structure (JSON, opaque to the
-- store), so that operators' tools can show a flow's stages and recovery points without its code. One row per name,
-- version and structure. Applied with search_path set to the store's schema.
CREATE TABLE flows (
    name        text        NOT NULL,
    version     integer     NOT NULL,
    fingerprint text        NOT NULL,
    structure   text        NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text        NOT NULL,
    PRIMARY KEY (name, version, fingerprint)
);
