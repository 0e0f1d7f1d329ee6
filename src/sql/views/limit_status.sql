-- One row per limit or template: its settings, the slots in use and free, its queue, what
-- it refused, how long slots are held, and where it came from (kind, template). A rate
-- limit's bucket holds no slots (used stays 0): bucket_level is the budget in use now
-- (fractional; NULL for a concurrency limit) and bucket_frees_at when the next slot of
-- budget frees (NULL when one is free now); free and utilisation count the bucket. The
-- level is computed here, not by _bucket_level(): readers may SELECT the views but execute
-- no function.
CREATE OR REPLACE VIEW limit_status AS
SELECT l.name, l.slots, l.active, l.slot_decay_per_second,
  l.active_slots AS used,
  greatest(l.slots - l.active_slots - ceil(coalesce(b.level, 0) - 1e-9)::integer, 0) AS free,
  (SELECT count(*) FROM waiters w WHERE w.queue = l.name)::integer AS waiting,
  CASE WHEN l.slots > 0 THEN round((l.active_slots + coalesce(b.level, 0))::numeric / l.slots, 3) END AS utilisation,
  l.denied_slots AS denied,
  l.avg_slot_occupancy_seconds AS avg_occupancy_seconds,
  l.created_at, l.updated_at,
  CASE WHEN l.name LIKE '%*' THEN 'template' ELSE 'limit' END AS kind,
  l.template,
  b.level AS bucket_level,
  CASE WHEN b.level + 1 > l.slots THEN
    l.decayed_at + make_interval(secs => (l.decaying_slots + 1 - l.slots) / l.slot_decay_per_second)
  END AS bucket_frees_at
FROM limits l
CROSS JOIN LATERAL (
  SELECT CASE WHEN l.slot_decay_per_second > 0 THEN greatest(0, l.decaying_slots
    - l.slot_decay_per_second * extract(epoch FROM clock_timestamp() - l.decayed_at)::double precision) END AS level
) AS b;
