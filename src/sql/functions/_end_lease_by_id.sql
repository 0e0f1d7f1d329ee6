-- Ends one lease: locks the limits it counts against (waiting for them, or with p_nowait
-- skipping the lease when one is busy), then in one statement deletes it, writes its
-- history row and frees its slots, and hands them on. A lease whose time is up when it is
-- released counts as expired. False when it was not ended (gone, or skipped).
-- In place, the common case under contention: the lease held one concurrency limit and
-- the head of its queue asks for exactly those slots of that limit alone. The slots pass
-- straight to the head and the limit's count is not written (avg_slot_occupancy_seconds,
-- a moving average, takes every fourth of these handoffs: only those write the row).
-- Otherwise the count drops and the grant loop runs, unless the one probe of the queue
-- found nobody waiting (waiters queue under the lock held here, so none can be missed).
-- p_lazy_commit: the caller's transaction is a holder's release and nothing else (release,
-- release_with_grants), so when it hands nothing out its commit may skip the WAL flush.
CREATE OR REPLACE FUNCTION _end_lease_by_id(p_lease_id uuid, p_kind text, p_nowait boolean,
                                            p_lazy_commit boolean DEFAULT false)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_limits limits[];
  v_limit limits;
  v_counted text[];
  v_occupy integer;
  v_head waiters;
  v_probed boolean := false;
  v_in_place boolean := false;
  v_ended history;
  v_now timestamptz;
BEGIN
  -- counted only ever shrinks (a deleted limit), so these locks cover the row deleted below.
  IF p_nowait THEN
    SELECT counted, occupy INTO v_counted, v_occupy FROM leases WHERE id = p_lease_id;
    IF NOT FOUND OR NOT _try_lock_limits(v_counted) THEN RETURN false; END IF;
    PERFORM 1 FROM leases WHERE id = p_lease_id FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN RETURN false; END IF;
    v_limits := ARRAY(SELECT l FROM limits l WHERE l.name = ANY (v_counted) ORDER BY l.name);
  ELSE
    SELECT le.counted, le.occupy,
           ARRAY(SELECT l FROM limits l WHERE l.name = ANY (le.counted) ORDER BY l.name FOR UPDATE)
    INTO v_counted, v_occupy, v_limits FROM leases le WHERE le.id = p_lease_id;
    IF NOT FOUND THEN RETURN false; END IF;
  END IF;
  v_limit := v_limits[1];
  IF cardinality(v_limits) = 1 AND _counts_slots(v_limit) AND v_limit.active_slots <= v_limit.slots THEN
    SELECT * INTO v_head FROM waiters WHERE queue = v_limit.name ORDER BY priority DESC, ticket LIMIT 1;
    v_probed := true;
    v_in_place := FOUND AND v_head.occupy = v_occupy AND v_head.names = v_counted
                  AND _waiter_live(v_head.expires_at, v_head.listener_pid);
  END IF;
  v_now := clock_timestamp();
  WITH gone AS (DELETE FROM leases WHERE id = p_lease_id RETURNING *),
  freed AS (
    UPDATE limits l SET
      active_slots = l.active_slots - CASE WHEN v_in_place THEN 0 ELSE g.occupy END,
      avg_slot_occupancy_seconds = CASE WHEN l.avg_slot_occupancy_seconds = 0 THEN held.seconds
                                        ELSE 0.8 * l.avg_slot_occupancy_seconds + 0.2 * held.seconds END
    FROM gone g, LATERAL (SELECT extract(epoch FROM v_now - g.acquired_at)::double precision) AS held(seconds)
    WHERE l.name = ANY (g.counted) AND (NOT v_in_place OR g.fencing_token % 4 = 0))
  INSERT INTO history (kind, names, counted, occupy, fencing_token, ticket, holder, asked_at, granted_at, ended_at,
                       granted_lsn)
  SELECT CASE WHEN p_kind = 'released' AND expires_at <= v_now THEN 'expired' ELSE p_kind END,
    names, counted, occupy, fencing_token, ticket, holder, asked_at, acquired_at, v_now, granted_lsn
  FROM gone
  RETURNING * INTO v_ended;
  IF NOT FOUND THEN RETURN false; END IF;
  IF v_in_place THEN
    PERFORM _grant(v_head, v_now, v_ended.counted, false);
    -- Room beyond the freed slots (raised meanwhile) goes on down the queue.
    IF v_limit.active_slots >= v_limit.slots THEN RETURN true; END IF;
  ELSIF (v_probed AND v_head.id IS NULL) OR cardinality(v_ended.counted) = 0 THEN
    -- Nobody waits, or nothing was freed: this hands nothing out, so a holder's release,
    -- alone in its transaction (p_lazy_commit), need not wait for the disk. A crash before
    -- the flush forgets it, and the lease is back until its ttl, as a crashed holder's.
    -- A later commit that hands these slots out flushes the WAL up to its own, this with it.
    IF p_lazy_commit THEN
      SET LOCAL synchronous_commit = off;
    END IF;
    RETURN true;
  END IF;
  PERFORM _grant_waiters(v_ended.counted);
  RETURN true;
END $$;
