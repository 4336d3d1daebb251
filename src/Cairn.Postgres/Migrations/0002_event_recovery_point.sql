-- The recovery point an event is about (passed, resumed from, re-run from, interrupted after), as a field of its own.
ALTER TABLE events ADD COLUMN recovery_point text;
