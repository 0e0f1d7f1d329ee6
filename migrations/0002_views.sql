-- Up Migration
-- Views for dashboards and psql. None of them exposes a lease id or a waiter id (the
-- capabilities to release and to cancel); fencing tokens and tickets are public.

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

CREATE VIEW active_leases AS
SELECT fencing_token, names, counted, occupy, holder, asked_at, acquired_at, expires_at,
  clock_timestamp() - acquired_at AS age,
  expires_at - clock_timestamp() AS expires_in
FROM leases
WHERE expires_at > clock_timestamp();

-- One row per waiting request (a request waiting on two limits has a row in each queue).
CREATE VIEW waiting AS
SELECT ticket, names, queues, occupy, holder, asked_at AS created_at,
  clock_timestamp() - asked_at AS wait_age
FROM waiters
WHERE queue = queues[1];

-- One row per finished lease or wait: when it was asked for, granted and ended, how it
-- ended, and the wait and held seconds.
CREATE VIEW lease_history AS
SELECT id, kind AS ended_how, names, counted, occupy, fencing_token, ticket, holder,
  asked_at, granted_at, ended_at,
  extract(epoch FROM coalesce(granted_at, ended_at) - asked_at)::double precision AS wait_seconds,
  extract(epoch FROM ended_at - granted_at)::double precision AS held_seconds
FROM history
WHERE kind IN ('released', 'expired', 'revoked', 'cancelled', 'denied');

-- A timeline of everything, derived from history and the live rows: queued, acquired,
-- released, expired, revoked, cancelled, denied, limit_changed, limit_deleted.
CREATE VIEW events AS
SELECT h.ended_at AS at, h.kind, h.names, h.occupy, h.fencing_token, h.holder,
  NULL::double precision AS wait_seconds,
  extract(epoch FROM h.ended_at - h.granted_at)::double precision AS held_seconds, h.slots, h.active
FROM history h
UNION ALL
SELECT h.granted_at, 'acquired', h.names, h.occupy, h.fencing_token, h.holder,
  extract(epoch FROM h.granted_at - h.asked_at)::double precision, NULL, NULL, NULL
FROM history h WHERE h.granted_at IS NOT NULL
UNION ALL
SELECT h.asked_at, 'queued', h.names, h.occupy, NULL, h.holder, NULL, NULL, NULL, NULL
FROM history h WHERE h.ticket IS NOT NULL
UNION ALL
SELECT l.acquired_at, 'acquired', l.names, l.occupy, l.fencing_token, l.holder,
  extract(epoch FROM l.acquired_at - l.asked_at)::double precision, NULL, NULL, NULL
FROM leases l
UNION ALL
SELECT l.asked_at, 'queued', l.names, l.occupy, NULL, l.holder, NULL, NULL, NULL, NULL
FROM leases l WHERE l.ticket IS NOT NULL
UNION ALL
SELECT w.asked_at, 'queued', w.names, w.occupy, NULL, w.holder, NULL, NULL, NULL, NULL
FROM waiters w WHERE w.queue = w.queues[1];

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
FROM events e CROSS JOIN LATERAL unnest(e.names) AS n
GROUP BY 1, 2;

-- Down Migration
DROP VIEW stats_per_minute;
DROP VIEW events;
DROP VIEW lease_history;
DROP VIEW waiting;
DROP VIEW active_leases;
DROP VIEW limit_status;
