-- Takes slots now, queues a waiter (p_wait), or reports busy: one call, one transaction.
-- Locked section: the limit rows, in name order, from the FOR UPDATE to commit. Inside it
-- only what decides the outcome: one probe of the earliest lease expiry (lazy expiry),
-- one probe per limit of its queue (none on one full concurrency limit that holds the
-- earliest expiry), then the charge of the limits and the lease row, or
-- the denied count and the waiter's rows.
-- What a call costs is mostly the index scans its statements start (each opens its
-- relations and descends an index), so one concurrency limit, the common case, has paths
-- of its own: a grant into room charges the limit and writes the lease in one statement,
-- and a waiter learns when to look again from the soonest lease of all (read by the expiry
-- probe) when it counts on that limit, else from the leases of that limit alone.
-- p_request_id names the request: it becomes the lease or waiter id. A retry after a lost
-- answer passes the same id and gets what the first attempt took. Twin attempts lock the
-- same limit rows, so whichever gets them second sees the other's lease or waiter rows and
-- answers with those: one request never holds a lease and a place in line at once.
CREATE OR REPLACE FUNCTION acquire(p_names text[], p_occupy integer, p_ttl interval,
                                   p_holder jsonb DEFAULT '{}', p_wait boolean DEFAULT false,
                                   p_strict boolean DEFAULT false, p_heartbeat interval DEFAULT '15 seconds',
                                   p_listener_pid integer DEFAULT NULL, p_request_id uuid DEFAULT NULL,
                                   p_priority integer DEFAULT 0)
RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_names text[] := _check_request(p_names, p_occupy, p_ttl, p_heartbeat, p_priority, p_holder);
  v_holder jsonb := coalesce(p_holder, '{}');
  v_limits limits[];
  v_limit limits;
  v_found text[] := '{}';
  v_active text[] := '{}';
  v_counted text[] := '{}';
  v_blocked text[] := '{}';
  v_impossible limits;
  v_first boolean := true;
  v_full boolean := false;
  v_expired integer := 0;
  v_soonest_at timestamptz;
  v_soonest_counted text[];
  v_existing text[];
  v_now timestamptz;
  v_result acquire_result;
BEGIN
  v_limits := ARRAY(SELECT l FROM limits l WHERE l.name = ANY (v_names) ORDER BY l.name FOR UPDATE);
  -- A name that does not exist may be covered by a template (only then is this paid for).
  -- Read again even when this call created nothing: a concurrent first request may have
  -- created the limit since the read above.
  IF cardinality(v_limits) < cardinality(v_names) THEN
    v_existing := ARRAY(SELECT l.name FROM unnest(v_limits) AS l);
    PERFORM _instantiate_templates(v_names);
    v_limits := ARRAY(SELECT l FROM limits l WHERE l.name = ANY (v_names) ORDER BY l.name FOR UPDATE);
    -- Reported, so that a misspelt name a template covers does not become a limit unseen.
    SELECT array_agg(l.name ORDER BY l.name), array_agg(l.template ORDER BY l.name)
    INTO v_result.created, v_result.created_from
    FROM unnest(v_limits) AS l WHERE l.template IS NOT NULL AND l.name <> ALL (v_existing);
  END IF;
  IF p_request_id IS NOT NULL AND (EXISTS (SELECT 1 FROM leases WHERE id = p_request_id)
                                   OR EXISTS (SELECT 1 FROM waiters WHERE id = p_request_id)) THEN
    v_result := _answer_retry(p_request_id);
    IF v_result.status IS NOT NULL THEN RETURN v_result; END IF;
  END IF;
  -- Lazy expiry, before the rows are read below, since it may change them: the soonest
  -- lease is the first entry of the expires_at index (a WHERE on the volatile
  -- clock_timestamp() could not use it); almost always it has not expired.
  SELECT expires_at, counted INTO v_soonest_at, v_soonest_counted FROM leases ORDER BY expires_at LIMIT 1;
  IF cardinality(v_limits) > 0 AND v_soonest_at <= clock_timestamp() THEN
    v_soonest_counted := NULL; -- (ended, or not this request's)
    v_expired := _expire_leases_on(ARRAY(SELECT l.name FROM unnest(v_limits) AS l WHERE l.active));
    IF v_expired > 0 THEN
      v_limits := ARRAY(SELECT l FROM limits l WHERE l.name = ANY (ARRAY(SELECT o.name FROM unnest(v_limits) AS o))
                        ORDER BY l.name);
    END IF;
  END IF;
  v_now := clock_timestamp();
  -- One concurrency limit. With room: granted unless a waiter is ahead. Full, with the
  -- soonest lease of all on it: the count blocks the request, and a waiter ahead would change
  -- nothing (either way it looks again when that lease expires, below), so the pass below
  -- does not probe its queue; the common case under contention. (_counts_slots and _has_room
  -- written out: on a row argument they cost a request that queues 12k more instructions
  -- than this plain expression of the locked row.)
  IF cardinality(v_limits) = 1 AND cardinality(v_names) = 1 AND (v_limits[1]).active
     AND (v_limits[1]).slot_decay_per_second = 0 THEN
    IF (v_limits[1]).active_slots + p_occupy > (v_limits[1]).slots THEN
      v_full := coalesce(v_names[1] = ANY (v_soonest_counted), false);
    ELSIF NOT EXISTS (SELECT 1 FROM waiters WHERE queue = v_names[1] AND priority >= p_priority
                      AND _waiter_live(expires_at, listener_pid)) THEN
      WITH charged AS (UPDATE limits SET active_slots = active_slots + p_occupy WHERE name = v_names[1])
      INSERT INTO leases (id, fencing_token, names, counted, occupy, holder, ttl, asked_at, acquired_at, expires_at)
      VALUES (coalesce(p_request_id, gen_random_uuid()), _next_fencing_token(), v_names, v_names, p_occupy, v_holder,
              p_ttl, v_now, v_now, v_now + p_ttl)
      RETURNING id, fencing_token, expires_at INTO v_result.lease_id, v_result.fencing_token, v_result.expires_at;
      v_result.status := 'acquired';
      v_result.names := v_names;
      v_result.missing := '{}';
      v_result.db_now := clock_timestamp();
      RETURN v_result;
    END IF;
  END IF;
  -- The one pass over the limits: which exist, which count, which cannot ever fit this
  -- request, and which keep it from being granted now.
  FOREACH v_limit IN ARRAY v_limits LOOP
    v_found := v_found || v_limit.name;
    CONTINUE WHEN NOT v_limit.active;
    v_active := v_active || v_limit.name;
    IF _counts_slots(v_limit) THEN
      v_counted := v_counted || v_limit.name;
    END IF;
    -- slots = 0 without strict reads as "paused": the request waits for an admin to raise it.
    IF v_limit.slots < p_occupy AND (v_limit.slots > 0 OR p_strict) AND v_impossible.name IS NULL THEN
      v_impossible := v_limit;
    END IF;
    -- No barging: any live waiter ahead in line (same or higher priority) keeps its turn;
    -- a dead one keeps none.
    IF v_full THEN
      v_blocked := v_blocked || v_limit.name;
    ELSIF EXISTS (SELECT 1 FROM waiters WHERE queue = v_limit.name AND priority >= p_priority
                  AND _waiter_live(expires_at, listener_pid)) THEN
      v_first := false;
      v_blocked := v_blocked || v_limit.name;
    ELSIF NOT _has_room(v_limit, p_occupy, v_now) THEN
      v_blocked := v_blocked || v_limit.name;
    END IF;
  END LOOP;
  v_result.names := v_found;
  v_result.missing := '{}';
  IF cardinality(v_found) < cardinality(v_names) THEN
    v_result.missing := ARRAY(SELECT n FROM unnest(v_names) AS n WHERE n <> ALL (v_found) ORDER BY n);
    IF p_strict THEN
      RAISE EXCEPTION USING ERRCODE = 'PS404',
        MESSAGE = format('limit not found: %s', array_to_string(v_result.missing, ', '));
    END IF;
  END IF;
  IF v_impossible.name IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'PS422',
      MESSAGE = CASE WHEN v_impossible.slots = 0
                THEN format('limit %s is paused (slots 0): nothing is granted until an admin raises its slots',
                            quote_literal(v_impossible.name))
                ELSE format('occupy %s exceeds the %s slots of limit %s', p_occupy, v_impossible.slots,
                            quote_literal(v_impossible.name)) END;
  END IF;
  -- Nothing to guard (no names, or none exist): no lease, no fencing token, no renewals.
  IF cardinality(v_found) = 0 THEN
    v_result.status := 'acquired';
    v_result.db_now := clock_timestamp();
    RETURN v_result;
  END IF;
  IF cardinality(v_blocked) = 0 THEN
    PERFORM _charge(v_found, p_occupy, v_now);
    INSERT INTO leases (id, fencing_token, names, counted, occupy, holder, ttl, asked_at, acquired_at, expires_at)
    VALUES (coalesce(p_request_id, gen_random_uuid()), _next_fencing_token(), v_found, v_counted, p_occupy, v_holder,
            p_ttl, v_now, v_now, v_now + p_ttl)
    RETURNING id, fencing_token, expires_at INTO v_result.lease_id, v_result.fencing_token, v_result.expires_at;
    v_result.status := 'acquired';
    v_result.db_now := clock_timestamp();
    RETURN v_result;
  END IF;
  -- Neither outcome below hands out slots or a fencing token, so unless lazy expiry above
  -- handed freed slots to waiters, the commit need not wait for the disk, and the limit
  -- rows are locked for the work alone, not for a WAL flush. On a crash before the flush
  -- a waiter row may be gone: its process finds that at its next poll and queues again.
  -- A grant of this waiter commits durably after it, and WAL is flushed in order, so a
  -- granted waiter's row is never lost.
  IF v_expired = 0 THEN
    SET LOCAL synchronous_commit = off;
  END IF;
  UPDATE limits SET denied_slots = denied_slots + p_occupy WHERE name = ANY (v_blocked);
  IF p_wait THEN
    v_result.status := 'waiting';
    v_result.waiter_id := coalesce(p_request_id, gen_random_uuid());
    v_result.ticket := nextval('waiter_ticket_seq');
    INSERT INTO waiters (queue, ticket, id, queues, names, occupy, holder, ttl, heartbeat, asked_at,
                         expires_at, listener_pid, priority)
    SELECT q, v_result.ticket, v_result.waiter_id, v_active, v_found, p_occupy, v_holder, p_ttl,
           p_heartbeat, v_now, v_now + p_heartbeat, p_listener_pid, p_priority
    FROM unnest(v_active) AS q;
    -- One concurrency limit: the first in line is blocked by its count alone, so it looks
    -- again when a lease on it expires; any other, at the next such expiry after now. When
    -- the soonest lease of all counts on it, that is the one (no lease on it can be added
    -- while its row is locked here; a renewal only makes the look early, which is harmless).
    v_result.next_expiry := CASE WHEN cardinality(v_limits) = 1 AND _counts_slots(v_limit) THEN
                                   CASE WHEN v_limit.name = ANY (v_soonest_counted) THEN v_soonest_at
                                        ELSE _lease_expiry_on(v_limit.name, NOT v_first) END
                                 WHEN v_first THEN _next_wake(v_active, p_occupy) ELSE _next_look(v_active) END;
  ELSE
    v_result.status := 'busy';
    INSERT INTO history (kind, names, occupy, holder, asked_at, ended_at)
    VALUES ('denied', v_found, p_occupy, v_holder, v_now, v_now);
  END IF;
  v_result.db_now := clock_timestamp();
  RETURN v_result;
END $$;
