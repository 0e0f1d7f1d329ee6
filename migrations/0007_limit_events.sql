-- Up Migration
-- Limit changes go into the event log, in the same transaction and under the same row lock
-- as the change: dashboards show when a limit was raised, lowered, disabled or deleted, and
-- a replay of the log knows which `slots` every acquisition was admitted against.

ALTER TABLE event_log DROP CONSTRAINT event_log_kind_check;
ALTER TABLE event_log ADD CONSTRAINT event_log_kind_check
  CHECK (kind IN ('acquired', 'released', 'expired', 'revoked', 'denied', 'queued', 'cancelled',
                  'limit_changed', 'limit_deleted'));
-- For limit events: the limit's slots and active flag after the change.
ALTER TABLE event_log ADD COLUMN slots integer, ADD COLUMN active boolean;

CREATE FUNCTION _record_limit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO event_log (kind, names, occupy, slots, active)
    VALUES ('limit_deleted', ARRAY[OLD.name], 0, OLD.slots, OLD.active);
    RETURN OLD;
  END IF;
  INSERT INTO event_log (kind, names, occupy, slots, active)
  VALUES ('limit_changed', ARRAY[NEW.name], 0, NEW.slots, NEW.active);
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION _record_limit_change() FROM PUBLIC;

CREATE TRIGGER limits_record_insert AFTER INSERT OR DELETE ON limits
  FOR EACH ROW EXECUTE FUNCTION _record_limit_change();
-- Only changes an admin makes: acquisitions touch the counters, never these columns.
CREATE TRIGGER limits_record_update AFTER UPDATE OF slots, active, slot_decay_per_second ON limits
  FOR EACH ROW WHEN (OLD.slots IS DISTINCT FROM NEW.slots OR OLD.active IS DISTINCT FROM NEW.active
                     OR OLD.slot_decay_per_second IS DISTINCT FROM NEW.slot_decay_per_second)
  EXECUTE FUNCTION _record_limit_change();

CREATE OR REPLACE VIEW events AS
SELECT id, at, kind, names, occupy, fencing_token, holder, wait_seconds, held_seconds, slots, active
FROM event_log;

-- Down Migration
-- (a view cannot lose columns in place; re-run grant_roles() after migrating down)
DROP VIEW events;
CREATE VIEW events AS
SELECT id, at, kind, names, occupy, fencing_token, holder, wait_seconds, held_seconds
FROM event_log;
DROP TRIGGER limits_record_update ON limits;
DROP TRIGGER limits_record_insert ON limits;
DROP FUNCTION _record_limit_change();
DELETE FROM event_log WHERE kind IN ('limit_changed', 'limit_deleted');
ALTER TABLE event_log DROP COLUMN slots, DROP COLUMN active;
ALTER TABLE event_log DROP CONSTRAINT event_log_kind_check;
ALTER TABLE event_log ADD CONSTRAINT event_log_kind_check
  CHECK (kind IN ('acquired', 'released', 'expired', 'revoked', 'denied', 'queued', 'cancelled'));
