-- Keeps all waiters of one process alive in one call, records the pid its listener has
-- now (NULL: none), and reports each one's state: the background cost is one call per
-- process per poll, however many waiters it has. Rows being granted right now are
-- skipped, not waited for.
CREATE OR REPLACE FUNCTION heartbeat(p_waiter_ids uuid[], p_listener_pid integer DEFAULT NULL)
RETURNS TABLE (waiter_id uuid, status text, next_expiry timestamptz, db_now timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE waiters w SET expires_at = clock_timestamp() + w.heartbeat, listener_pid = p_listener_pid
  FROM (SELECT queue, ticket FROM waiters WHERE id = ANY (p_waiter_ids) AND expires_at > clock_timestamp()
        FOR UPDATE SKIP LOCKED) AS live
  WHERE w.queue = live.queue AND w.ticket = live.ticket;
  RETURN QUERY
  SELECT ids.id,
    CASE WHEN w.id IS NOT NULL AND w.expires_at > clock_timestamp() THEN 'waiting'
         WHEN EXISTS (SELECT 1 FROM leases l WHERE l.id = ids.id) THEN 'granted'
         ELSE 'gone' END,
    CASE WHEN w.id IS NOT NULL THEN _when_to_look(w.queues, w.names, w.occupy, w.priority, w.ticket) END,
    clock_timestamp()
  FROM unnest(p_waiter_ids) AS ids (id)
  LEFT JOIN LATERAL (SELECT * FROM waiters WHERE id = ids.id LIMIT 1) AS w ON true;
END $$;
