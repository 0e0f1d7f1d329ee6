-- Up Migration
-- The public lease API: one function call = one round trip = one transaction.

-- When the first waiter in line should look again: the time every one of its limits
-- could have room — now, when a held lease expires, or when a rate limit's bucket has
-- drained enough for p_occupy. NULL when some limit has no room and nothing will free it.
CREATE FUNCTION _next_wake(p_names text[], p_occupy integer) RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN bool_and(t IS NOT NULL) THEN max(t) END FROM (
    SELECT CASE
      WHEN NOT l.active OR (l.slot_decay_per_second = 0 AND l.active_slots + p_occupy <= l.slots)
        THEN clock_timestamp()
      WHEN l.slot_decay_per_second > 0
        THEN greatest(clock_timestamp(), l.decayed_at + make_interval(secs =>
               (l.decaying_slots + p_occupy - l.slots) / l.slot_decay_per_second))
      ELSE (SELECT min(le.expires_at) FROM lease_limits ll JOIN leases le ON le.id = ll.lease_id
            WHERE ll.limit_name = l.name)
    END AS t
    FROM limits l WHERE l.name = ANY (p_names)
  ) AS per_limit
$$;

-- Removes a waiter (cancelled or expired); a grant it had not claimed yet is released.
CREATE FUNCTION _end_waiter(p_waiter_id uuid, p_nowait boolean) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_waiter waiters;
BEGIN
  SELECT * INTO v_waiter FROM waiters WHERE id = p_waiter_id;
  IF NOT FOUND THEN RETURN false; END IF;
  IF p_nowait THEN
    IF NOT _try_lock_limits(v_waiter.names) THEN RETURN false; END IF;
  ELSE
    PERFORM 1 FROM limits WHERE name = ANY (v_waiter.names) ORDER BY name FOR UPDATE;
  END IF;
  -- Re-read under the limit locks: a grant may have landed meanwhile.
  SELECT * INTO v_waiter FROM waiters WHERE id = p_waiter_id;
  IF NOT FOUND THEN RETURN false; END IF;
  IF v_waiter.lease_id IS NOT NULL THEN
    RETURN _end_lease(v_waiter.lease_id, 'released', p_nowait) IS NOT NULL;
  END IF;
  DELETE FROM waiters WHERE id = p_waiter_id;
  PERFORM _record_event('cancelled', v_waiter.names, v_waiter.occupy, NULL, v_waiter.holder,
                        extract(epoch FROM clock_timestamp() - v_waiter.created_at), NULL);
  -- A removed head may have blocked smaller requests behind it.
  PERFORM _grant_waiters(v_waiter.names);
  RETURN true;
END $$;

-- Takes slots now, or queues a waiter (p_wait), or reports busy. Locks the limit rows in
-- name order; expired leases on them are ended first so their slots are not wasted.
CREATE FUNCTION acquire(p_names text[], p_occupy integer, p_ttl interval,
                        p_holder jsonb DEFAULT '{}', p_wait boolean DEFAULT false,
                        p_strict boolean DEFAULT false, p_heartbeat interval DEFAULT '15 seconds')
RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_names text[] := _check_request(p_names, p_occupy, p_ttl);
  v_found text[];
  v_active text[];
  v_impossible limits;
  v_blocked text[];
  v_now timestamptz;
  v_lease leases;
  v_waiter waiters;
  v_result acquire_result;
BEGIN
  PERFORM _check_interval('heartbeat', p_heartbeat);
  SELECT coalesce(array_agg(name ORDER BY name), '{}'),
         coalesce(array_agg(name ORDER BY name) FILTER (WHERE active), '{}')
  INTO v_found, v_active
  FROM (SELECT name, active FROM limits WHERE name = ANY (v_names) ORDER BY name FOR UPDATE) AS l;
  v_result.names := v_found;
  v_result.missing := ARRAY(SELECT n FROM unnest(v_names) AS n WHERE n <> ALL (v_found) ORDER BY n);
  IF p_strict AND cardinality(v_result.missing) > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS404',
      MESSAGE = format('limit not found: %s', array_to_string(v_result.missing, ', '));
  END IF;
  -- slots = 0 without strict reads as "paused": the request waits for an admin to raise it.
  SELECT * INTO v_impossible FROM limits WHERE name = ANY (v_active) AND slots < p_occupy
    AND (slots > 0 OR p_strict) ORDER BY name LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS422',
      MESSAGE = format('occupy %s exceeds the %s slots of limit %s', p_occupy, v_impossible.slots,
                       quote_literal(v_impossible.name));
  END IF;
  PERFORM _expire_leases_on(v_active);
  v_now := clock_timestamp();
  v_blocked := ARRAY(
    SELECT l.name FROM limits l WHERE l.name = ANY (v_active)
      AND (NOT _has_room(l, p_occupy, v_now)
           OR EXISTS (SELECT 1 FROM waiter_limits wl WHERE wl.limit_name = l.name))
    ORDER BY l.name);
  IF cardinality(v_blocked) = 0 THEN
    v_lease := _create_lease(v_found, p_occupy, p_ttl, coalesce(p_holder, '{}'), v_now + p_ttl);
    PERFORM _record_event('acquired', v_found, p_occupy, v_lease.fencing_token, v_lease.holder, 0, NULL,
                          v_lease.acquired_at);
    v_result.status := 'acquired';
    v_result.lease_id := v_lease.id;
    v_result.fencing_token := v_lease.fencing_token;
    v_result.expires_at := v_lease.expires_at;
  ELSE
    UPDATE limits SET denied_slots = denied_slots + p_occupy WHERE name = ANY (v_blocked);
    IF p_wait THEN
      INSERT INTO waiters (ticket, names, occupy, holder, ttl, heartbeat, created_at, expires_at)
      VALUES (nextval('waiter_ticket_seq'), v_found, p_occupy, coalesce(p_holder, '{}'), p_ttl,
              p_heartbeat, v_now, v_now + p_heartbeat)
      RETURNING * INTO v_waiter;
      INSERT INTO waiter_limits (limit_name, ticket, waiter_id)
      SELECT n, v_waiter.ticket, v_waiter.id FROM unnest(v_active) AS n;
      PERFORM _record_event('queued', v_found, p_occupy, NULL, v_waiter.holder, NULL, NULL);
      v_result.status := 'waiting';
      v_result.waiter_id := v_waiter.id;
      v_result.ticket := v_waiter.ticket;
      IF _is_first_in_line(v_waiter.id) THEN
        v_result.next_expiry := _next_wake(v_active, p_occupy);
      END IF;
    ELSE
      PERFORM _record_event('denied', v_found, p_occupy, NULL, coalesce(p_holder, '{}'), NULL, NULL);
      v_result.status := 'busy';
    END IF;
  END IF;
  v_result.db_now := clock_timestamp();
  RETURN v_result;
END $$;

-- Takes budget from rate limits (slot_decay_per_second > 0) without holding anything:
-- the budget drains by itself. Queues like acquire() when the budget is short; the
-- claimed grant of a waiter is then released by the client.
CREATE FUNCTION rate_limit(p_names text[], p_occupy integer, p_holder jsonb DEFAULT '{}',
                           p_wait boolean DEFAULT false, p_strict boolean DEFAULT false,
                           p_heartbeat interval DEFAULT '15 seconds')
RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_plain text;
  v_result acquire_result;
BEGIN
  SELECT name INTO v_plain FROM limits
  WHERE name = ANY (p_names) AND active AND slot_decay_per_second = 0 ORDER BY name LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('names: %s is not a rate limit (slotDecayPerSecond is 0); use acquire()', quote_literal(v_plain));
  END IF;
  v_result := acquire(p_names, p_occupy, interval '1 minute', p_holder, p_wait, p_strict, p_heartbeat);
  IF v_result.status = 'acquired' THEN
    PERFORM _end_lease(v_result.lease_id, 'released', false);
    v_result.lease_id := NULL;
  END IF;
  RETURN v_result;
END $$;

-- A waiter's poll: claims a granted lease (extending it to the full ttl), or heartbeats.
-- The first waiter in line also tries to take free slots itself, covering a grant that a
-- busy lock made the releasing transaction skip.
CREATE FUNCTION claim(p_waiter_id uuid) RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_waiter waiters;
  v_lease leases;
  v_result acquire_result;
BEGIN
  v_result.status := 'gone';
  SELECT * INTO v_waiter FROM waiters WHERE id = p_waiter_id;
  IF FOUND AND v_waiter.lease_id IS NULL AND _is_first_in_line(v_waiter.id) THEN
    PERFORM 1 FROM limits WHERE name = ANY (v_waiter.names) ORDER BY name FOR UPDATE;
    PERFORM _expire_leases_on(v_waiter.names);
    SELECT * INTO v_waiter FROM waiters WHERE id = p_waiter_id;
    IF FOUND AND v_waiter.lease_id IS NULL THEN
      -- Grants this waiter (first in line) and whoever else fits, then wakes the next.
      PERFORM _grant_waiters(v_waiter.names);
      SELECT * INTO v_waiter FROM waiters WHERE id = p_waiter_id;
    END IF;
  END IF;
  IF v_waiter.id IS NULL THEN
    v_result.db_now := clock_timestamp();
    RETURN v_result;
  END IF;
  v_result.names := v_waiter.names;
  v_result.waiter_id := v_waiter.id;
  v_result.ticket := v_waiter.ticket;
  IF v_waiter.lease_id IS NOT NULL THEN
    -- Lease row before waiter row: the same order as ending a lease.
    UPDATE leases SET expires_at = clock_timestamp() + ttl
    WHERE id = v_waiter.lease_id AND expires_at > clock_timestamp()
    RETURNING * INTO v_lease;
    DELETE FROM waiters WHERE id = p_waiter_id;
    IF v_lease.id IS NOT NULL THEN
      v_result.status := 'acquired';
      v_result.lease_id := v_lease.id;
      v_result.fencing_token := v_lease.fencing_token;
      v_result.expires_at := v_lease.expires_at;
    END IF;
  ELSE
    UPDATE waiters SET expires_at = clock_timestamp() + heartbeat
    WHERE id = p_waiter_id AND lease_id IS NULL AND expires_at > clock_timestamp();
    IF FOUND THEN
      v_result.status := 'waiting';
      v_result.next_expiry := CASE WHEN _is_first_in_line(v_waiter.id) THEN _next_wake(v_waiter.names, v_waiter.occupy) END;
    END IF;
  END IF;
  v_result.db_now := clock_timestamp();
  RETURN v_result;
END $$;

-- Keeps all waiters of one process alive in one call and reports each one's state, so
-- the background cost is one call per process per poll, however many waiters it has.
-- Rows being granted right now are skipped, not waited for.
CREATE FUNCTION heartbeat(p_waiter_ids uuid[])
RETURNS TABLE (waiter_id uuid, status text, next_expiry timestamptz, db_now timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE waiters SET expires_at = clock_timestamp() + heartbeat
  WHERE id IN (SELECT id FROM waiters WHERE id = ANY (p_waiter_ids) AND lease_id IS NULL
                 AND expires_at > clock_timestamp() FOR UPDATE SKIP LOCKED);
  RETURN QUERY
  SELECT ids.id,
    CASE WHEN w.id IS NULL THEN 'gone'
         WHEN w.lease_id IS NOT NULL THEN 'granted'
         WHEN w.expires_at <= clock_timestamp() THEN 'gone'
         ELSE 'waiting' END,
    CASE WHEN w.lease_id IS NULL AND _is_first_in_line(w.id) THEN _next_wake(w.names, w.occupy) END,
    clock_timestamp()
  FROM unnest(p_waiter_ids) AS ids (id) LEFT JOIN waiters w ON w.id = ids.id;
END $$;

CREATE FUNCTION cancel_wait(p_waiter_id uuid) RETURNS boolean LANGUAGE sql AS $$
  SELECT _end_waiter(p_waiter_id, false)
$$;

-- Extends a live lease; a lease that expired, was revoked or released is lost for good.
CREATE FUNCTION renew(p_lease_id uuid, p_ttl interval) RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
  v_result acquire_result;
BEGIN
  PERFORM _check_interval('ttl', p_ttl);
  UPDATE leases SET expires_at = clock_timestamp() + p_ttl, ttl = p_ttl
  WHERE id = p_lease_id AND expires_at > clock_timestamp()
  RETURNING * INTO v_lease;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS410',
      MESSAGE = 'lease lost: it expired, was revoked or was released';
  END IF;
  v_result.status := 'acquired';
  v_result.lease_id := v_lease.id;
  v_result.fencing_token := v_lease.fencing_token;
  v_result.expires_at := v_lease.expires_at;
  v_result.names := v_lease.names;
  v_result.db_now := clock_timestamp();
  RETURN v_result;
END $$;

CREATE FUNCTION release(p_lease_id uuid) RETURNS boolean LANGUAGE sql AS $$
  SELECT _end_lease(p_lease_id, 'released', false) IS NOT NULL
$$;

CREATE FUNCTION revoke(p_fencing_token bigint) RETURNS boolean LANGUAGE sql AS $$
  SELECT coalesce((SELECT _end_lease(id, 'revoked', false) IS NOT NULL
                   FROM leases WHERE fencing_token = p_fencing_token), false)
$$;

-- True while the lease is live; the share lock keeps it from being ended until the
-- caller's transaction finishes, so writes fenced by it cannot race a release.
CREATE FUNCTION lease_valid(p_fencing_token bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM leases WHERE fencing_token = p_fencing_token AND expires_at > clock_timestamp()
  FOR SHARE;
  RETURN FOUND;
END $$;

-- Down Migration
DROP FUNCTION lease_valid(bigint);
DROP FUNCTION revoke(bigint);
DROP FUNCTION release(uuid);
DROP FUNCTION renew(uuid, interval);
DROP FUNCTION cancel_wait(uuid);
DROP FUNCTION heartbeat(uuid[]);
DROP FUNCTION claim(uuid);
DROP FUNCTION rate_limit(text[], integer, jsonb, boolean, boolean, interval);
DROP FUNCTION acquire(text[], integer, interval, jsonb, boolean, boolean, interval);
DROP FUNCTION _end_waiter(uuid, boolean);
DROP FUNCTION _next_wake(text[], integer);
