-- Issue 12: runs' named streams. A checkpoint names the stream contents it holds (StreamManifest text, null when none);
-- the contents live here, addressed by their SHA-256, each stored once, written in chunks of up to 1 MiB.

ALTER TABLE checkpoints ADD COLUMN streams TEXT;

-- Content being written: its chunks are added one short transaction at a time, before its hash is known. An upload
-- that is published becomes a stream_contents row and its upload row is deleted; one abandoned by a crash is
-- discarded by a later sweep.
CREATE TABLE stream_uploads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at INTEGER NOT NULL
);

-- The chunks of an upload or of published content, in order; read and written with incremental blob I/O.
CREATE TABLE stream_chunks (
    id        INTEGER PRIMARY KEY,
    upload_id INTEGER NOT NULL,
    idx       INTEGER NOT NULL,
    bytes     BLOB    NOT NULL
);

CREATE UNIQUE INDEX stream_chunks_upload ON stream_chunks (upload_id, idx);

-- Published content: complete, readable, found by its hash. touched_at (UTC ticks) is when it was last written or a
-- checkpoint about to refer to it touched it; sweeps delete only content untouched for long.
CREATE TABLE stream_contents (
    sha256     TEXT    NOT NULL PRIMARY KEY,
    length     INTEGER NOT NULL,
    touched_at INTEGER NOT NULL,
    upload_id  INTEGER NOT NULL
);

CREATE INDEX stream_contents_touched_at ON stream_contents (touched_at);
