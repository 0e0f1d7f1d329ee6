-- Up Migration
-- A granted lease takes its waiter's id as its own id. The waiter id is already the
-- waiter's secret, so this reveals nothing; it lets a client whose claim() committed but
-- whose answer was lost (a connection cut at the wrong moment) find its lease again with
-- renew(waiter id), instead of queueing a second time while the first lease sits unheld
-- until its ttl runs out.

DROP FUNCTION _create_lease(text[], integer, interval, jsonb, timestamptz);
-- As in 0002, with an optional id for the new lease.
CREATE FUNCTION _create_lease(p_names text[], p_occupy integer, p_ttl interval, p_holder jsonb,
                              p_expires_at timestamptz, p_id uuid DEFAULT NULL)
RETURNS leases LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
BEGIN
  INSERT INTO leases (id, names, occupy, holder, ttl, acquired_at, expires_at)
  VALUES (coalesce(p_id, gen_random_uuid()), p_names, p_occupy, p_holder, p_ttl, clock_timestamp(), p_expires_at)
  RETURNING * INTO v_lease;
  -- Rate limits take from the bucket (nothing is held); concurrency limits hold slots.
  UPDATE limits SET decaying_slots = _bucket_level(limits, v_lease.acquired_at) + p_occupy,
    decayed_at = v_lease.acquired_at
  WHERE name = ANY (p_names) AND active AND slot_decay_per_second > 0;
  WITH counted AS (
    UPDATE limits SET active_slots = active_slots + p_occupy
    WHERE name = ANY (p_names) AND active AND slot_decay_per_second = 0
    RETURNING name
  )
  INSERT INTO lease_limits (limit_name, lease_id, occupy)
  SELECT name, v_lease.id, p_occupy FROM counted;
  RETURN v_lease;
END $$;
REVOKE EXECUTE ON FUNCTION _create_lease(text[], integer, interval, jsonb, timestamptz, uuid) FROM PUBLIC;

-- As in 0009, with the waiter's id as the lease id.
CREATE OR REPLACE FUNCTION _try_grant(p_waiter waiters) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
  v_now timestamptz;
BEGIN
  IF NOT _is_first_in_line(p_waiter.id) THEN
    RETURN false;
  END IF;
  IF NOT _try_lock_limits(p_waiter.names) THEN
    RETURN false;
  END IF;
  v_now := clock_timestamp();
  IF p_waiter.expires_at <= v_now OR _listener_gone(p_waiter.listener_pid) THEN
    DELETE FROM waiters WHERE id = p_waiter.id;
    PERFORM _record_event('cancelled', p_waiter.names, p_waiter.occupy, NULL, p_waiter.holder,
                          extract(epoch FROM v_now - p_waiter.created_at), NULL);
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM limits l WHERE l.name = ANY (p_waiter.names)
             AND NOT _has_room(l, p_waiter.occupy, v_now)) THEN
    RETURN false;
  END IF;
  v_lease := _create_lease(p_waiter.names, p_waiter.occupy, p_waiter.ttl, p_waiter.holder,
                           v_now + least(p_waiter.ttl, p_waiter.heartbeat), p_waiter.id);
  UPDATE waiters SET lease_id = v_lease.id, granted_at = v_now WHERE id = p_waiter.id;
  DELETE FROM waiter_limits WHERE waiter_id = p_waiter.id;
  PERFORM _record_event('acquired', p_waiter.names, p_waiter.occupy, v_lease.fencing_token,
                        p_waiter.holder, extract(epoch FROM v_now - p_waiter.created_at), NULL,
                        v_lease.acquired_at);
  PERFORM pg_notify('pgslots_' || current_schema(), p_waiter.ticket::text);
  RETURN true;
END $$;

-- Down Migration
-- Nothing to undo: _create_lease's optional id and _try_grant's use of it work with every
-- earlier function.
