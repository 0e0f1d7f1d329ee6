-- Up Migration
-- Waiter liveness and request ids.
-- * A waiter whose process died kept its place in line until its heartbeat ran out (five
--   missed polls): it blocked everyone behind it, and could be granted slots it would never
--   claim. Every process has one LISTEN connection that lives exactly as long as the
--   process does, so waiters now record that connection's backend pid; a grant (0011)
--   cancels a waiter whose listening backend has exited (its advisory lock is gone).
--   Waiters without a listener (listen: false, poolers) still rely on their heartbeat.
-- * Request ids make acquire() safe to retry. When the answer to an acquire is lost (a
--   connection cut after its commit), the caller does not know whether it holds slots, is
--   queued, or has nothing; retrying blindly took slots twice and left the first lease
--   unheld until its ttl. The caller names its request: the id becomes the lease id (or the
--   waiter id, which a grant turns into the lease id), and a retry with the same id answers
--   with what the first attempt took. Two attempts in flight at once cannot both take
--   slots: the second one's insert meets the first one's primary key.
-- acquire, rate_limit and heartbeat take the pid as a new argument (acquire also the
-- request id). The earlier rate_limit and heartbeat live on as _rate_limit and _heartbeat
-- under the new ones; the earlier acquire is dropped once its grants are carried over.

ALTER TABLE waiters ADD COLUMN listener_pid integer;

-- True when the waiter's process is known to be gone. A listening connection holds the
-- session advisory lock (hashtext of its channel, its pid) for as long as it lives; when a
-- shared try-lock on that key succeeds, nobody holds it any more. (A lookup in
-- pg_stat_get_activity costs about 30 times more, and this runs under the limit lock.)
CREATE FUNCTION _listener_gone(p_pid integer) RETURNS boolean LANGUAGE sql VOLATILE AS $$
  SELECT p_pid IS NOT NULL
    AND pg_try_advisory_xact_lock_shared(hashtext('pgslots_' || current_schema()), p_pid)
$$;

-- A lease may be created with an id chosen by the caller: a granted lease takes its waiter's
-- id, and a request's id becomes its lease's id. As in 0002 otherwise.
DROP FUNCTION _create_lease(text[], integer, interval, jsonb, timestamptz);
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

-- acquire() is the hot path: the new version is 0003's with the pid and the request id
-- written into its INSERTs, rather than a wrapper (a wrapper call cost about 9 % of an acquire).
ALTER FUNCTION acquire(text[], integer, interval, jsonb, boolean, boolean, interval) RENAME TO _acquire;
CREATE FUNCTION acquire(p_names text[], p_occupy integer, p_ttl interval,
                        p_holder jsonb DEFAULT '{}', p_wait boolean DEFAULT false,
                        p_strict boolean DEFAULT false, p_heartbeat interval DEFAULT '15 seconds',
                        p_listener_pid integer DEFAULT NULL, p_request_id uuid DEFAULT NULL)
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
  IF p_request_id IS NOT NULL THEN
    -- A retry of a request whose answer was lost: answer with what it took. A waiter row,
    -- granted or not, is claimed the usual way; a lease held outright is returned. (A
    -- waiter row that expired meanwhile makes the retry fail on its primary key.)
    SELECT * INTO v_waiter FROM waiters WHERE id = p_request_id
      AND (lease_id IS NOT NULL OR expires_at > clock_timestamp());
    IF FOUND THEN
      v_result.status := 'waiting';
      v_result.waiter_id := v_waiter.id;
      v_result.ticket := v_waiter.ticket;
      v_result.names := v_waiter.names;
      v_result.db_now := clock_timestamp();
      RETURN v_result;
    END IF;
    SELECT * INTO v_lease FROM leases WHERE id = p_request_id AND expires_at > clock_timestamp();
    IF FOUND THEN
      v_result.status := 'acquired';
      v_result.lease_id := v_lease.id;
      v_result.fencing_token := v_lease.fencing_token;
      v_result.expires_at := v_lease.expires_at;
      v_result.names := v_lease.names;
      v_result.db_now := clock_timestamp();
      RETURN v_result;
    END IF;
  END IF;
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
    v_lease := _create_lease(v_found, p_occupy, p_ttl, coalesce(p_holder, '{}'), v_now + p_ttl, p_request_id);
    PERFORM _record_event('acquired', v_found, p_occupy, v_lease.fencing_token, v_lease.holder, 0, NULL,
                          v_lease.acquired_at);
    v_result.status := 'acquired';
    v_result.lease_id := v_lease.id;
    v_result.fencing_token := v_lease.fencing_token;
    v_result.expires_at := v_lease.expires_at;
  ELSE
    UPDATE limits SET denied_slots = denied_slots + p_occupy WHERE name = ANY (v_blocked);
    IF p_wait THEN
      INSERT INTO waiters (id, ticket, names, occupy, holder, ttl, heartbeat, created_at, expires_at, listener_pid)
      VALUES (coalesce(p_request_id, gen_random_uuid()), nextval('waiter_ticket_seq'), v_found, p_occupy, coalesce(p_holder, '{}'), p_ttl,
              p_heartbeat, v_now, v_now + p_heartbeat, p_listener_pid)
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

ALTER FUNCTION rate_limit(text[], integer, jsonb, boolean, boolean, interval) RENAME TO _rate_limit;
CREATE FUNCTION rate_limit(p_names text[], p_occupy integer, p_holder jsonb DEFAULT '{}',
                           p_wait boolean DEFAULT false, p_strict boolean DEFAULT false,
                           p_heartbeat interval DEFAULT '15 seconds', p_listener_pid integer DEFAULT NULL)
RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_result acquire_result := _rate_limit(p_names, p_occupy, p_holder, p_wait, p_strict, p_heartbeat);
BEGIN
  IF v_result.status = 'waiting' AND p_listener_pid IS NOT NULL THEN
    UPDATE waiters SET listener_pid = p_listener_pid WHERE id = v_result.waiter_id;
  END IF;
  RETURN v_result;
END $$;

-- The poll also says which connection the process listens on now (NULL: none), so a
-- reconnected listener does not make its waiters look dead.
ALTER FUNCTION heartbeat(uuid[]) RENAME TO _heartbeat;
CREATE FUNCTION heartbeat(p_waiter_ids uuid[], p_listener_pid integer DEFAULT NULL)
RETURNS TABLE (waiter_id uuid, status text, next_expiry timestamptz, db_now timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE waiters SET listener_pid = p_listener_pid
  WHERE id IN (SELECT id FROM waiters WHERE id = ANY (p_waiter_ids) AND lease_id IS NULL
                 AND listener_pid IS DISTINCT FROM p_listener_pid FOR UPDATE SKIP LOCKED);
  RETURN QUERY SELECT * FROM _heartbeat(p_waiter_ids);
END $$;

-- Grants by function name, so new signatures are covered. Roles granted before this
-- migration keep their rights: they are carried over to the new functions below.
CREATE OR REPLACE FUNCTION grant_roles(p_worker text DEFAULT NULL, p_reader text DEFAULT NULL, p_admin text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_schema text := current_schema();
  v_worker_functions text[] := ARRAY['acquire', 'rate_limit', 'claim', 'heartbeat', 'cancel_wait', 'renew',
                                     'release', 'reap', 'lease_valid'];
  v_admin_functions text[] := ARRAY['put_limit', 'delete_limit', 'revoke'];
  v_views text[] := ARRAY['limit_status', 'active_leases', 'waiting', 'events', 'stats_per_minute'];
  v_role text;
  v_item text;
BEGIN
  FOREACH v_role IN ARRAY ARRAY[p_worker, p_reader, p_admin] LOOP
    CONTINUE WHEN v_role IS NULL;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_schema, v_role);
  END LOOP;
  FOREACH v_role IN ARRAY ARRAY[p_worker, p_admin] LOOP
    CONTINUE WHEN v_role IS NULL;
    FOR v_item IN SELECT f::text FROM _public_functions() AS f JOIN pg_proc p ON p.oid = f
                  WHERE p.proname = ANY (v_worker_functions) LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_item, v_role);
    END LOOP;
  END LOOP;
  FOREACH v_role IN ARRAY ARRAY[p_reader, p_admin] LOOP
    CONTINUE WHEN v_role IS NULL;
    FOREACH v_item IN ARRAY v_views LOOP
      EXECUTE format('GRANT SELECT ON %I.%I TO %I', v_schema, v_item, v_role);
    END LOOP;
  END LOOP;
  IF p_admin IS NOT NULL THEN
    FOR v_item IN SELECT f::text FROM _public_functions() AS f JOIN pg_proc p ON p.oid = f
                  WHERE p.proname = ANY (v_admin_functions) LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_item, p_admin);
    END LOOP;
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', v_schema, p_admin);
  END IF;
END $$;

-- Like 0006: the new public functions run as their owner and are not executable by PUBLIC;
-- whoever could call the old ones may call the new ones.
DO $$
DECLARE
  v_pair text[];
  v_role text;
BEGIN
  FOREACH v_pair SLICE 1 IN ARRAY ARRAY[
    ARRAY['_acquire(text[], integer, interval, jsonb, boolean, boolean, interval)',
          'acquire(text[], integer, interval, jsonb, boolean, boolean, interval, integer, uuid)'],
    ARRAY['_rate_limit(text[], integer, jsonb, boolean, boolean, interval)',
          'rate_limit(text[], integer, jsonb, boolean, boolean, interval, integer)'],
    ARRAY['_heartbeat(uuid[])', 'heartbeat(uuid[], integer)']]
  LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER', v_pair[2]);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', v_pair[2]);
    FOR v_role IN
      SELECT a.grantee::regrole::text FROM pg_proc p, aclexplode(p.proacl) AS a
      WHERE p.oid = v_pair[1]::regprocedure AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0
        AND a.grantee <> p.proowner
    LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', v_pair[2], v_role);
    END LOOP;
  END LOOP;
END $$;
DROP FUNCTION _acquire(text[], integer, interval, jsonb, boolean, boolean, interval);
REVOKE EXECUTE ON FUNCTION _listener_gone(integer) FROM PUBLIC;
SELECT _pin_search_path();

-- Down Migration
-- acquire() keeps its extra, optional arguments: earlier callers pass seven and get the
-- same function. (_create_lease and grant_roles keep their new bodies; both work as before.)
DROP FUNCTION heartbeat(uuid[], integer);
ALTER FUNCTION _heartbeat(uuid[]) RENAME TO heartbeat;
DROP FUNCTION rate_limit(text[], integer, jsonb, boolean, boolean, interval, integer);
ALTER FUNCTION _rate_limit(text[], integer, jsonb, boolean, boolean, interval) RENAME TO rate_limit;
