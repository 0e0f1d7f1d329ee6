-- A polling waiter's poll: heartbeats its place in line, or claims the lease it was
-- granted (extending it to the full ttl). The first live waiter in line also expires leases
-- and hands out free slots itself, covering a grant that a busy lock made a releasing
-- transaction skip, and a crashed holder's expiry when no reaper runs; dead waiters ahead
-- of it are removed on the way.
-- The heartbeat is an UPDATE on purpose: when a grant of this waiter is in flight, it
-- waits for it, finds the rows gone, and the lease lookup after it sees the grant. It
-- comes after the limit locks (lock order: limit rows, then lease and waiter rows).
CREATE OR REPLACE FUNCTION claim(p_waiter_id uuid) RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_waiter waiters;
  v_lease leases;
  v_result acquire_result;
BEGIN
  SELECT * INTO v_waiter FROM waiters WHERE id = p_waiter_id LIMIT 1;
  IF FOUND AND _first_live_in_line(v_waiter.queues, v_waiter.priority, v_waiter.ticket) THEN
    PERFORM 1 FROM limits WHERE name = ANY (v_waiter.names) ORDER BY name FOR UPDATE;
    PERFORM _expire_leases_on(v_waiter.queues);
    PERFORM _grant_waiters(v_waiter.queues);
  END IF;
  UPDATE waiters SET expires_at = clock_timestamp() + heartbeat
  WHERE id = p_waiter_id AND expires_at > clock_timestamp()
  RETURNING * INTO v_waiter;
  IF FOUND THEN
    v_result.status := 'waiting';
    v_result.waiter_id := v_waiter.id;
    v_result.ticket := v_waiter.ticket;
    v_result.names := v_waiter.names;
    v_result.next_expiry := _when_to_look(v_waiter.queues, v_waiter.names, v_waiter.occupy,
                                          v_waiter.priority, v_waiter.ticket);
  ELSE
    UPDATE leases SET expires_at = clock_timestamp() + ttl
    WHERE id = p_waiter_id AND expires_at > clock_timestamp()
    RETURNING * INTO v_lease;
    v_result.status := CASE WHEN FOUND THEN 'acquired' ELSE 'gone' END;
    v_result.lease_id := v_lease.id;
    v_result.fencing_token := v_lease.fencing_token;
    v_result.expires_at := v_lease.expires_at;
    v_result.names := v_lease.names;
  END IF;
  v_result.db_now := clock_timestamp();
  RETURN v_result;
END $$;
