-- Cairn PostgreSQL schema, version 5: runs' named streams. Applied inside the migration transaction with search_path set
-- to the store's schema: no BEGIN/COMMIT and no schema names here.

-- A checkpoint's streams, name → content, as the JSON text StreamManifest writes ({"name":{"sha256":"…","length":123}});
-- null when none. Text, not jsonb: jsonb refuses some strings JSON allows (\u0000), and the store only reads it whole.
ALTER TABLE checkpoints ADD COLUMN streams text;

-- Content being written: one row an upload, until it is published or dropped. Its chunks are written in short
-- transactions, each of which moves written_at on, so that an upload whose node died (nothing written for long) is
-- told from a slow one and swept.
CREATE TABLE stream_uploads (
    upload_id  uuid        NOT NULL PRIMARY KEY,
    written_at timestamptz NOT NULL
);

-- The bytes of content in order, chunks of 1 MiB (the last one shorter), under the upload that wrote them: first the
-- upload's, and once published its content's (stream_contents.upload_id), so that publishing rewrites no chunk.
CREATE TABLE stream_chunks (
    upload_id uuid    NOT NULL,
    idx       integer NOT NULL,
    bytes     bytea   NOT NULL,
    PRIMARY KEY (upload_id, idx)
);

-- Complete content, by its SHA-256 (lower-case hex), stored once however many runs use it. touched_at: last written or
-- touched, which a sweep of unreferenced content compares with its cutoff.
CREATE TABLE stream_contents (
    sha256     text        NOT NULL PRIMARY KEY,
    length     bigint      NOT NULL,
    upload_id  uuid        NOT NULL,
    touched_at timestamptz NOT NULL
);

CREATE INDEX stream_contents_touched_at ON stream_contents (touched_at);
