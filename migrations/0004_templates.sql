-- Up Migration
-- Limit templates: a limit whose name ends in '*' (gpu:*) holds no slots itself. A request
-- for a name that does not exist and that a template covers (longest prefix wins) creates
-- that limit from the template, in the same transaction. `template` records which one.
ALTER TABLE limits ADD COLUMN template text;
-- The templates alone, for the longest-prefix lookup (a handful of rows among any number of limits).
CREATE INDEX limits_templates_idx ON limits (name) WHERE name LIKE '%*';

-- limit_status shows templates apart (kind) and where each limit came from (new last columns).
CREATE OR REPLACE VIEW limit_status AS
SELECT l.name, l.slots, l.active, l.slot_decay_per_second,
  l.active_slots AS used,
  greatest(l.slots - l.active_slots, 0) AS free,
  (SELECT count(*) FROM waiters w WHERE w.queue = l.name)::integer AS waiting,
  CASE WHEN l.slots > 0 THEN round(l.active_slots::numeric / l.slots, 3) END AS utilisation,
  l.denied_slots AS denied,
  l.avg_slot_occupancy_seconds AS avg_occupancy_seconds,
  l.created_at, l.updated_at,
  CASE WHEN l.name LIKE '%*' THEN 'template' ELSE 'limit' END AS kind,
  l.template
FROM limits l;

-- Down Migration
DROP VIEW limit_status;
CREATE VIEW limit_status AS
SELECT l.name, l.slots, l.active, l.slot_decay_per_second,
  l.active_slots AS used,
  greatest(l.slots - l.active_slots, 0) AS free,
  (SELECT count(*) FROM waiters w WHERE w.queue = l.name)::integer AS waiting,
  CASE WHEN l.slots > 0 THEN round(l.active_slots::numeric / l.slots, 3) END AS utilisation,
  l.denied_slots AS denied,
  l.avg_slot_occupancy_seconds AS avg_occupancy_seconds,
  l.created_at, l.updated_at
FROM limits l;
DROP INDEX limits_templates_idx;
ALTER TABLE limits DROP COLUMN template;
