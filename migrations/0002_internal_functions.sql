-- Up Migration
-- Internal building blocks of the public functions. Lock order everywhere:
-- limit rows first (by name), then lease and waiter rows. A function waits for
-- locks only once, at its start, for one ordered batch; every later lock is taken
-- with SKIP LOCKED, so no two transactions can wait on each other in a cycle.
-- SQLSTATEs: PS400 validation, PS404 limit not found, PS409 limit exists,
-- PS410 lease lost, PS422 impossible request.

CREATE TYPE acquire_result AS (
  status text,              -- acquired | waiting | busy | gone
  lease_id uuid,
  fencing_token bigint,
  expires_at timestamptz,
  waiter_id uuid,
  ticket bigint,
  names text[],             -- the limits the lease or waiter counts against
  missing text[],           -- requested names with no such limit (skipped)
  next_expiry timestamptz,  -- earliest expiry among the leases a waiter waits behind
  db_now timestamptz
);

CREATE FUNCTION _check_name(p_name text) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_name IS NULL OR char_length(p_name) NOT BETWEEN 1 AND 200 OR p_name ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('name: must be 1-200 characters without control characters, got %s',
                       coalesce(quote_literal(left(p_name, 60)), 'NULL'));
  END IF;
END $$;

CREATE FUNCTION _check_interval(p_field text, p_value interval) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value IS NULL OR p_value < interval '100 milliseconds' OR p_value > interval '7 days' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('%s: must be between 100 ms and 7 days, got %s', p_field, coalesce(p_value::text, 'NULL'));
  END IF;
END $$;

-- Validates the arguments of a slot request and returns the distinct names, sorted.
CREATE FUNCTION _check_request(p_names text[], p_occupy integer, p_ttl interval)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  v_bad text;
BEGIN
  IF p_names IS NULL OR cardinality(p_names) = 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = 'names: at least one limit name is required';
  END IF;
  SELECT n INTO v_bad FROM unnest(p_names) AS n
  WHERE n IS NULL OR char_length(n) NOT BETWEEN 1 AND 200 OR n ~ '[[:cntrl:]]' LIMIT 1;
  IF FOUND THEN
    PERFORM _check_name(v_bad);
  END IF;
  IF p_occupy IS NULL OR p_occupy < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = format('occupy: must be an integer >= 1, got %s', p_occupy);
  END IF;
  PERFORM _check_interval('ttl', p_ttl);
  RETURN ARRAY(SELECT DISTINCT n FROM unnest(p_names) AS n ORDER BY n);
END $$;

-- Locks existing limits without waiting; true when every one of them was locked.
CREATE FUNCTION _try_lock_limits(p_names text[]) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_locked integer;
BEGIN
  SELECT count(*) INTO v_locked FROM (
    SELECT 1 FROM limits WHERE name = ANY (p_names) ORDER BY name FOR UPDATE SKIP LOCKED
  ) AS l;
  RETURN v_locked = (SELECT count(*) FROM limits WHERE name = ANY (p_names));
END $$;

-- p_at: when it happened, if not now (a grant is dated by its lease's acquired_at, the
-- instant a rate limit's bucket was charged).
CREATE FUNCTION _record_event(p_kind text, p_names text[], p_occupy integer, p_token bigint,
                              p_holder jsonb, p_wait double precision, p_held double precision,
                              p_at timestamptz DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO event_log (at, kind, names, occupy, fencing_token, holder, wait_seconds, held_seconds)
  VALUES (coalesce(p_at, clock_timestamp()), p_kind, p_names, p_occupy, p_token, p_holder, p_wait, p_held)
$$;

-- A rate limit's bucket level at p_at: what was poured in, minus what drained since.
CREATE FUNCTION _bucket_level(p_limit limits, p_at timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
  SELECT greatest(0, p_limit.decaying_slots
    - p_limit.slot_decay_per_second * extract(epoch FROM p_at - p_limit.decayed_at)::double precision)
$$;

-- True when p_occupy more slots fit: held slots for a concurrency limit, the bucket for a
-- rate limit; an inactive limit always has room.
CREATE FUNCTION _has_room(p_limit limits, p_occupy integer, p_at timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT p_limit.active OR CASE
    WHEN p_limit.slot_decay_per_second > 0 THEN _bucket_level(p_limit, p_at) + p_occupy <= p_limit.slots
    ELSE p_limit.active_slots + p_occupy <= p_limit.slots END
$$;

-- Creates a lease counted against the active limits among p_names (caller holds their locks).
CREATE FUNCTION _create_lease(p_names text[], p_occupy integer, p_ttl interval, p_holder jsonb,
                              p_expires_at timestamptz)
RETURNS leases LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
BEGIN
  INSERT INTO leases (names, occupy, holder, ttl, acquired_at, expires_at)
  VALUES (p_names, p_occupy, p_holder, p_ttl, clock_timestamp(), p_expires_at)
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

-- Deletes a lease whose limits the caller has locked; frees its slots and records why.
CREATE FUNCTION _free_lease(p_lease leases, p_kind text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  v_held double precision := extract(epoch FROM clock_timestamp() - p_lease.acquired_at);
  v_limits text[];
BEGIN
  SELECT coalesce(array_agg(limit_name ORDER BY limit_name), '{}') INTO v_limits
  FROM lease_limits WHERE lease_id = p_lease.id;
  UPDATE limits l SET
    active_slots = l.active_slots - ll.occupy,
    avg_slot_occupancy_seconds = CASE WHEN l.avg_slot_occupancy_seconds = 0 THEN v_held
      ELSE 0.8 * l.avg_slot_occupancy_seconds + 0.2 * v_held END
  FROM lease_limits ll
  WHERE ll.lease_id = p_lease.id AND l.name = ll.limit_name;
  -- An unclaimed grant dies with its waiter: the waiter is gone or expired too.
  DELETE FROM waiters WHERE lease_id = p_lease.id;
  DELETE FROM leases WHERE id = p_lease.id;
  PERFORM _record_event(p_kind, p_lease.names, p_lease.occupy, p_lease.fencing_token,
                        p_lease.holder, NULL, v_held);
  RETURN v_limits;
END $$;

-- FIFO per limit: true when no earlier ticket waits on any limit this waiter waits on.
CREATE FUNCTION _is_first_in_line(p_waiter_id uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM waiter_limits mine JOIN waiter_limits other
                       ON other.limit_name = mine.limit_name AND other.ticket < mine.ticket
                     WHERE mine.waiter_id = p_waiter_id)
$$;

-- Grants a waiter its lease when it is first in every queue it is in and its limits have
-- room. Locks with SKIP LOCKED, so it may be called while holding other limit locks.
-- True when the waiter was granted or removed as expired.
CREATE FUNCTION _try_grant(p_waiter waiters) RETURNS boolean LANGUAGE plpgsql AS $$
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

-- Hands free slots of the given limits to the oldest eligible waiters, in the same transaction.
CREATE FUNCTION _grant_waiters(p_names text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_name text;
  v_waiter waiters;
  v_changes integer := 0;
  v_progress boolean := true;
BEGIN
  WHILE v_progress LOOP
    v_progress := false;
    FOREACH v_name IN ARRAY p_names LOOP
      SELECT w.* INTO v_waiter FROM waiter_limits wl JOIN waiters w ON w.id = wl.waiter_id
      WHERE wl.limit_name = v_name ORDER BY wl.ticket LIMIT 1;
      IF FOUND AND _try_grant(v_waiter) THEN
        v_changes := v_changes + 1;
        v_progress := true;
      END IF;
    END LOOP;
  END LOOP;
  -- A rate limit's budget frees with time, not with a release: after a grant, wake the
  -- new first waiter so it can sleep until its budget time (it learns it from claim()).
  IF v_changes > 0 THEN
    PERFORM pg_notify('pgslots_' || current_schema(), min(wl.ticket)::text)
    FROM waiter_limits wl JOIN limits l ON l.name = wl.limit_name
    WHERE wl.limit_name = ANY (p_names) AND l.slot_decay_per_second > 0
    GROUP BY wl.limit_name;
  END IF;
  RETURN v_changes;
END $$;

-- Ends one lease: waits for its limit locks, or with p_nowait skips it when they are busy.
-- Returns the limits it freed (NULL when the lease was not ended).
CREATE FUNCTION _end_lease(p_lease_id uuid, p_kind text, p_nowait boolean)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  v_limits text[];
  v_lease leases;
BEGIN
  SELECT array_agg(limit_name ORDER BY limit_name) INTO v_limits
  FROM lease_limits WHERE lease_id = p_lease_id;
  v_limits := coalesce(v_limits, '{}');
  IF p_nowait THEN
    IF NOT _try_lock_limits(v_limits) THEN RETURN NULL; END IF;
    SELECT * INTO v_lease FROM leases WHERE id = p_lease_id FOR UPDATE SKIP LOCKED;
  ELSE
    PERFORM 1 FROM limits WHERE name = ANY (v_limits) ORDER BY name FOR UPDATE;
    SELECT * INTO v_lease FROM leases WHERE id = p_lease_id FOR UPDATE;
  END IF;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF p_kind = 'released' AND v_lease.expires_at <= clock_timestamp() THEN
    p_kind := 'expired';
  END IF;
  v_limits := _free_lease(v_lease, p_kind);
  PERFORM _grant_waiters(v_limits);
  RETURN v_limits;
END $$;

-- Expires the leases on these (locked) limits whose time is up, then hands their slots on.
CREATE FUNCTION _expire_leases_on(p_names text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
  v_expired integer := 0;
BEGIN
  FOR v_id IN
    SELECT DISTINCT l.id FROM lease_limits ll JOIN leases l ON l.id = ll.lease_id
    WHERE ll.limit_name = ANY (p_names) AND l.expires_at <= clock_timestamp()
  LOOP
    IF _end_lease(v_id, 'expired', true) IS NOT NULL THEN
      v_expired := v_expired + 1;
    END IF;
  END LOOP;
  RETURN v_expired;
END $$;

-- Down Migration
DROP FUNCTION _expire_leases_on(text[]);
DROP FUNCTION _end_lease(uuid, text, boolean);
DROP FUNCTION _grant_waiters(text[]);
DROP FUNCTION _try_grant(waiters);
DROP FUNCTION _is_first_in_line(uuid);
DROP FUNCTION _free_lease(leases, text);
DROP FUNCTION _create_lease(text[], integer, interval, jsonb, timestamptz);
DROP FUNCTION _has_room(limits, integer, timestamptz);
DROP FUNCTION _bucket_level(limits, timestamptz);
DROP FUNCTION _record_event(text, text[], integer, bigint, jsonb, double precision, double precision, timestamptz);
DROP FUNCTION _try_lock_limits(text[]);
DROP FUNCTION _check_request(text[], integer, interval);
DROP FUNCTION _check_interval(text, interval);
DROP FUNCTION _check_name(text);
DROP TYPE acquire_result;
