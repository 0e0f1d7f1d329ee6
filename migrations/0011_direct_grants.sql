-- Up Migration
-- Direct grants: the handoff needs no claim round trip.
-- * A waiter whose process is gone (0009) is cancelled, not granted.
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

-- As in 0002, with these changes: a waiter whose process is gone is cancelled; the lease
-- has the waiter's id; a listening waiter's grant is complete in the granting transaction;
-- and a polling waiter gets one full heartbeat to claim its grant, not just what was left
-- of its last one (with heartbeats of 5 s, a process stalled for a few seconds lost grants
-- it was about to claim, and a rate limit's budget with them).
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
-- Back to claiming every grant: 0002's _try_grant. cancel_wait keeps its new body, which
-- works as before.
CREATE OR REPLACE FUNCTION _try_grant(p_waiter waiters) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
  v_now timestamptz;
BEGIN
  IF NOT _is_first_in_line(p_waiter.id) THEN
    RETURN false;
  END IF;
  -- The lease counts against all of the waiter's active limits, so lock them all.
  IF NOT _try_lock_limits(p_waiter.names) THEN
    RETURN false;
  END IF;
  v_now := clock_timestamp();
  IF p_waiter.expires_at <= v_now THEN
    DELETE FROM waiters WHERE id = p_waiter.id;
    PERFORM _record_event('cancelled', p_waiter.names, p_waiter.occupy, NULL, p_waiter.holder,
                          extract(epoch FROM v_now - p_waiter.created_at), NULL);
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM limits l WHERE l.name = ANY (p_waiter.names)
             AND NOT _has_room(l, p_waiter.occupy, v_now)) THEN
    RETURN false;
  END IF;
  -- Until claimed, the grant lives no longer than the waiter's heartbeat allows.
  v_lease := _create_lease(p_waiter.names, p_waiter.occupy, p_waiter.ttl, p_waiter.holder,
                           least(v_now + p_waiter.ttl, p_waiter.expires_at));
  UPDATE waiters SET lease_id = v_lease.id, granted_at = v_now WHERE id = p_waiter.id;
  DELETE FROM waiter_limits WHERE waiter_id = p_waiter.id;
  PERFORM _record_event('acquired', p_waiter.names, p_waiter.occupy, v_lease.fencing_token,
                        p_waiter.holder, extract(epoch FROM v_now - p_waiter.created_at), NULL,
                        v_lease.acquired_at);
  -- The payload is the public ticket, never the waiter id that claims the lease.
  PERFORM pg_notify('pgslots_' || current_schema(), p_waiter.ticket::text);
  RETURN true;
END $$;
