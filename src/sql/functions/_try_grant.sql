-- Grants a queue's head waiter its lease when it is first in all its queues and every one
-- of its limits has room; the caller holds the lock of p_waiter.queue. Its other limits
-- are locked with SKIP LOCKED, so no two transactions wait on each other. A waiter past
-- its heartbeat, or whose process is gone, is removed instead of granted.
-- Returns granted, full (granted, and the queue's concurrency limit has no slot left),
-- removed or blocked.
CREATE OR REPLACE FUNCTION _try_grant(p_waiter waiters) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz;
  v_fits boolean;
  v_full boolean;
  v_counted text[];
BEGIN
  IF cardinality(p_waiter.names) > 1 AND NOT _try_lock_limits(p_waiter.names) THEN
    RETURN 'blocked';
  END IF;
  v_now := clock_timestamp();
  -- Liveness before line order: a dead head must go even when a waiter ahead of it in
  -- another queue would block it, or it would stop the grant loop of this queue for good.
  IF NOT _waiter_live(p_waiter.expires_at, p_waiter.listener_pid) THEN
    PERFORM _end_wait(p_waiter, v_now);
    RETURN 'removed';
  END IF;
  IF cardinality(p_waiter.queues) > 1 AND NOT _first_live_in_line(p_waiter.queues, p_waiter.priority, p_waiter.ticket) THEN
    RETURN 'blocked';
  END IF;
  SELECT bool_and(_has_room(l, p_waiter.occupy, v_now)),
         bool_or(l.name = p_waiter.queue AND _counts_slots(l) AND NOT _has_room(l, p_waiter.occupy + 1, v_now)),
         coalesce(array_agg(l.name ORDER BY l.name) FILTER (WHERE _counts_slots(l)), '{}')
  INTO v_fits, v_full, v_counted FROM limits l WHERE l.name = ANY (p_waiter.names);
  IF NOT coalesce(v_fits, true) THEN
    RETURN 'blocked';
  END IF;
  PERFORM _grant(p_waiter, v_now, v_counted, true);
  RETURN CASE WHEN coalesce(v_full, false) THEN 'full' ELSE 'granted' END;
END $$;
