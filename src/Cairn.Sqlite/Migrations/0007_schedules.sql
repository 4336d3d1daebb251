-- Issue 13: schedules that start runs of a flow at cron or interval slots. Times are UTC ticks; missed and overlap are
-- the values of the MissedSlotPolicy and OverlapPolicy enums; spec is ScheduleSpec's text. A due slot is claimed by a
-- compare-and-set of next_slot_at, so that one slot starts one run across all engines.
CREATE TABLE schedules (
    name            TEXT    NOT NULL PRIMARY KEY,
    flow_name       TEXT    NOT NULL,
    input           BLOB    NOT NULL,
    spec            TEXT    NOT NULL,
    missed          INTEGER NOT NULL,
    missed_limit    INTEGER NOT NULL,
    overlap         INTEGER NOT NULL,
    paused          INTEGER NOT NULL,
    next_slot_at    INTEGER,
    last_slot_at    INTEGER,
    last_run_id     TEXT,
    triggered_at    INTEGER,
    defined_in_code INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
