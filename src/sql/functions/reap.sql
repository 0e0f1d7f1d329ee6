-- Ends expired leases and waiters, hands their slots on, prunes old history. Never waits
-- for a lock: whatever is busy is left to the next call or to the transaction holding it.
CREATE OR REPLACE FUNCTION reap(OUT expired_leases integer, OUT expired_waiters integer,
                                OUT pruned_history integer)
LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
  v_waiter waiters;
BEGIN
  expired_leases := 0;
  expired_waiters := 0;
  -- Candidates come from the index, bounded by the earliest expiry (as in acquire);
  -- (SELECT clock_timestamp()) is computed once, so the index can serve the range.
  IF (SELECT min(expires_at) FROM leases) <= clock_timestamp() THEN
    FOR v_id IN SELECT id FROM leases WHERE expires_at <= (SELECT clock_timestamp()) ORDER BY expires_at LIMIT 10000 LOOP
      IF _end_lease_by_id(v_id, 'expired', true) THEN
        expired_leases := expired_leases + 1;
      END IF;
    END LOOP;
  END IF;
  FOR v_waiter IN SELECT DISTINCT ON (ticket) * FROM waiters WHERE expires_at <= (SELECT clock_timestamp())
                  ORDER BY ticket LIMIT 10000 LOOP
    CONTINUE WHEN NOT _try_lock_limits(v_waiter.queues);
    -- Re-read under the locks: a grant or a heartbeat may have landed meanwhile.
    SELECT * INTO v_waiter FROM waiters
    WHERE queue = v_waiter.queue AND ticket = v_waiter.ticket AND expires_at <= clock_timestamp();
    CONTINUE WHEN NOT FOUND;
    PERFORM _end_wait(v_waiter, clock_timestamp());
    PERFORM _grant_waiters(v_waiter.queues);
    expired_waiters := expired_waiters + 1;
  END LOOP;
  DELETE FROM history WHERE ended_at < (SELECT clock_timestamp()
    - coalesce((SELECT value::interval FROM settings WHERE key = 'history_retention'), interval '7 days'));
  GET DIAGNOSTICS pruned_history = ROW_COUNT;
END $$;
