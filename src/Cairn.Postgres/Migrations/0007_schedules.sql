-- Cairn PostgreSQL schema, version 7 (issue 13): schedules that start runs of a flow at cron or interval slots. missed
-- and overlap are the values of the MissedSlotPolicy and OverlapPolicy enums; spec is ScheduleSpec's text. A due slot
-- is claimed by a compare-and-set of next_slot_at, so that one slot starts one run across all nodes. Applied with
-- search_path set to the store's schema.
CREATE TABLE schedules (
    name            text        NOT NULL PRIMARY KEY,
    flow_name       text        NOT NULL,
    input           bytea       NOT NULL,
    spec            text        NOT NULL,
    missed          integer     NOT NULL,
    missed_limit    integer     NOT NULL,
    overlap         integer     NOT NULL,
    paused          boolean     NOT NULL,
    next_slot_at    timestamptz,
    last_slot_at    timestamptz,
    last_run_id     uuid,
    triggered_at    timestamptz,
    defined_in_code boolean     NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
