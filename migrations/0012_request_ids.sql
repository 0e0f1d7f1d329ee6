-- Up Migration
-- Request ids: acquire() can be retried safely. When the answer to an acquire is lost (a
-- connection cut after its commit), the caller does not know whether it holds slots, is
-- queued, or has nothing; retrying blindly took slots twice and left the first lease
-- unheld until its ttl. The caller now names its request: the id becomes the lease id (or
-- the waiter id, which a grant turns into the lease id), and a retry with the same id
-- answers with what the first attempt took. Two attempts in flight at once cannot both
-- take slots: the second one's insert meets the first one's primary key.

-- As in 0009, with the request id.
ALTER FUNCTION acquire(text[], integer, interval, jsonb, boolean, boolean, interval, integer) RENAME TO _acquire;
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

-- Like 0009: runs as its owner, not executable by PUBLIC, callable by whoever could call
-- the earlier acquire.
ALTER FUNCTION acquire(text[], integer, interval, jsonb, boolean, boolean, interval, integer, uuid) SECURITY DEFINER;
REVOKE EXECUTE ON FUNCTION acquire(text[], integer, interval, jsonb, boolean, boolean, interval, integer, uuid) FROM PUBLIC;
DO $$
DECLARE
  v_role text;
BEGIN
  FOR v_role IN
    SELECT a.grantee::regrole::text FROM pg_proc p, aclexplode(p.proacl) AS a
    WHERE p.oid = '_acquire(text[], integer, interval, jsonb, boolean, boolean, interval, integer)'::regprocedure
      AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0 AND a.grantee <> p.proowner
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION acquire(text[], integer, interval, jsonb, boolean, boolean, interval, integer, uuid) TO %s', v_role);
  END LOOP;
END $$;
DROP FUNCTION _acquire(text[], integer, interval, jsonb, boolean, boolean, interval, integer);
SELECT _pin_search_path();

-- Down Migration
-- acquire() keeps its extra, optional last argument: callers that pass eight or fewer get
-- the same function.
