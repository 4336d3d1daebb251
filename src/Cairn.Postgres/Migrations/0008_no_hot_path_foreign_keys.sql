-- Cairn PostgreSQL schema, version 8 (issue 14): no foreign keys from the tables a run writes at every step. Each
-- checkpoint, event, data and outbox row checked its run with a query of its own: ten for a three-checkpoint run,
-- measured at about 0.1 of the 0.6 ms of CPU such a run cost the machine. Every one of these rows is written by a
-- statement that has just read or written its run's row: the fenced writes hang their inserts on the UPDATE of the
-- run, the creation on its INSERT. A purge deletes them with their runs itself (PostgresSql.Purge). Signals, written
-- rarely, keep theirs. Applied with search_path set to the store's schema.
ALTER TABLE run_data DROP CONSTRAINT run_data_run_id_fkey;
ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_run_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_run_id_fkey;
ALTER TABLE outbox DROP CONSTRAINT outbox_run_id_fkey;
