-- A timeline of everything, derived from history and the live rows: queued, acquired,
-- released, expired, revoked, cancelled, denied, limit_changed, limit_deleted.
CREATE OR REPLACE VIEW events AS
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
