-- Up Migration
-- Views for dashboards and psql. None of them exposes a lease id or a waiter id (the
-- capabilities to release and to claim); fencing tokens and tickets are public.

CREATE VIEW limit_status AS
SELECT l.name, l.slots, l.active, l.slot_decay_per_second,
  l.active_slots AS used,
  greatest(l.slots - l.active_slots, 0) AS free,
  (SELECT count(*) FROM waiter_limits wl WHERE wl.limit_name = l.name)::integer AS waiting,
  CASE WHEN l.slots > 0 THEN round(l.active_slots::numeric / l.slots, 3) END AS utilisation,
  l.denied_slots AS denied,
  l.avg_slot_occupancy_seconds AS avg_occupancy_seconds,
  l.created_at, l.updated_at
FROM limits l;

CREATE VIEW active_leases AS
SELECT fencing_token, names, occupy, holder, acquired_at, expires_at,
  clock_timestamp() - acquired_at AS age,
  expires_at - clock_timestamp() AS expires_in
FROM leases
WHERE expires_at > clock_timestamp();

CREATE VIEW waiting AS
SELECT ticket, names, occupy, holder, created_at,
  clock_timestamp() - created_at AS wait_age,
  lease_id IS NOT NULL AS granted
FROM waiters;

CREATE VIEW events AS
SELECT id, at, kind, names, occupy, fencing_token, holder, wait_seconds, held_seconds
FROM event_log;

-- Per minute and limit: acquisitions, wait percentiles, expirations, denials, revocations.
CREATE VIEW stats_per_minute AS
SELECT date_trunc('minute', e.at) AS minute,
  n AS limit_name,
  count(*) FILTER (WHERE e.kind = 'acquired') AS acquisitions,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY e.wait_seconds) FILTER (WHERE e.kind = 'acquired') AS wait_p50_seconds,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY e.wait_seconds) FILTER (WHERE e.kind = 'acquired') AS wait_p95_seconds,
  count(*) FILTER (WHERE e.kind = 'expired') AS expirations,
  count(*) FILTER (WHERE e.kind = 'denied') AS denials,
  count(*) FILTER (WHERE e.kind = 'revoked') AS revocations,
  avg(e.held_seconds) FILTER (WHERE e.kind IN ('released', 'expired', 'revoked')) AS avg_held_seconds
FROM event_log e CROSS JOIN LATERAL unnest(e.names) AS n
GROUP BY 1, 2;

-- Down Migration
DROP VIEW stats_per_minute;
DROP VIEW events;
DROP VIEW waiting;
DROP VIEW active_leases;
DROP VIEW limit_status;
