-- Up Migration
-- Direct grants: the handoff needs no claim round trip.
-- * A granted lease takes its waiter's id as its own. The waiter id is already the
--   waiter's secret, so this reveals nothing, and the waiter always knows its lease id.
-- * A waiter whose process listens (its listener pid is recorded and alive) is granted
--   outright: the lease gets the full ttl, the waiter row goes, and the NOTIFY carries the
--   grant: ticket, fencing token, expiry and a check only the waiter can verify (sha256
--   over those fields and its secret waiter id). Any role may NOTIFY on the channel, so
--   without the check anyone could make a waiter believe it holds slots.
-- * A waiter that missed its NOTIFY, or whose claim committed but whose answer was lost (a
--   connection cut at that moment), finds its lease with renew(waiter id) instead of
--   queueing a second time while the first lease sits unheld until its ttl runs out.
-- Waiters without a listener (polling, poolers) are granted and claim as before.

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

-- As in 0009, but the lease has the waiter's id, and a listening waiter's grant is complete
-- in the granting transaction.
CREATE OR REPLACE FUNCTION _try_grant(p_waiter waiters) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
  v_now timestamptz;
  v_grant text;
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
  IF p_waiter.listener_pid IS NULL THEN
    -- Claimed by the waiter's next poll; until then it lives one heartbeat.
    v_lease := _create_lease(p_waiter.names, p_waiter.occupy, p_waiter.ttl, p_waiter.holder,
                             v_now + least(p_waiter.ttl, p_waiter.heartbeat), p_waiter.id);
    UPDATE waiters SET lease_id = v_lease.id, granted_at = v_now WHERE id = p_waiter.id;
    DELETE FROM waiter_limits WHERE waiter_id = p_waiter.id;
    v_grant := p_waiter.ticket::text;
  ELSE
    v_lease := _create_lease(p_waiter.names, p_waiter.occupy, p_waiter.ttl, p_waiter.holder,
                             v_now + p_waiter.ttl, p_waiter.id);
    DELETE FROM waiters WHERE id = p_waiter.id;
    -- Rounded down: the waiter must never think its lease lasts longer than it does.
    v_grant := p_waiter.ticket || ':' || v_lease.fencing_token || ':'
               || floor(extract(epoch FROM v_lease.expires_at) * 1000)::bigint;
    v_grant := v_grant || ':' || encode(sha256(convert_to(v_grant || ':' || p_waiter.id, 'UTF8')), 'hex');
  END IF;
  PERFORM _record_event('acquired', p_waiter.names, p_waiter.occupy, v_lease.fencing_token,
                        p_waiter.holder, extract(epoch FROM v_now - p_waiter.created_at), NULL,
                        v_lease.acquired_at);
  PERFORM pg_notify('pgslots_' || current_schema(), v_grant);
  RETURN true;
END $$;

-- A waiter granted outright has no row left to cancel: giving up then releases the lease
-- that carries its id (a grant that raced the timeout is not leaked).
CREATE OR REPLACE FUNCTION cancel_wait(p_waiter_id uuid) RETURNS boolean LANGUAGE sql AS $$
  SELECT CASE WHEN _end_waiter(p_waiter_id, false) THEN true
              ELSE _end_lease(p_waiter_id, 'released', false) IS NOT NULL END
$$;
ALTER FUNCTION cancel_wait(uuid) SECURITY DEFINER;
SELECT _pin_search_path();

-- Down Migration
-- Back to claiming every grant: 0009's _try_grant. _create_lease keeps its optional id and
-- cancel_wait its new body; both work as before.
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
                           v_now + least(p_waiter.ttl, p_waiter.heartbeat));
  UPDATE waiters SET lease_id = v_lease.id, granted_at = v_now WHERE id = p_waiter.id;
  DELETE FROM waiter_limits WHERE waiter_id = p_waiter.id;
  PERFORM _record_event('acquired', p_waiter.names, p_waiter.occupy, v_lease.fencing_token,
                        p_waiter.holder, extract(epoch FROM v_now - p_waiter.created_at), NULL,
                        v_lease.acquired_at);
  PERFORM pg_notify('pgslots_' || current_schema(), p_waiter.ticket::text);
  RETURN true;
END $$;
