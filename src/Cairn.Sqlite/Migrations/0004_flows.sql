-- Issue 11: the flows engines have registered, with their structure (JSON, opaque to the store), so that operators'
-- tools can show a flow's stages and recovery points without its code. One row per name, version and structure.
CREATE TABLE flows (
    name        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    fingerprint TEXT    NOT NULL,
    structure   TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    recorded_by TEXT    NOT NULL,
    PRIMARY KEY (name, version, fingerprint)
);
