-- Frees the slots of a lease that just ended (p_limits: its limit rows as they were before)
-- and hands them to the waiters, in the same transaction.
-- p_shared: the caller holds only a key-share lock on the one limit row (see
-- _end_lease_by_id); otherwise the exclusive lock on every row of p_limits.
-- In place, the common case under contention: the lease held one concurrency limit that is
-- full, and the head of its queue asks for exactly those slots of that limit alone
-- (_head_for_handoff). The slots pass straight to the head and the limit's count does not
-- change: the statement that turns the waiter into its lease, the NOTIFY, and the limit row
-- is not written. Under a key-share lock that is all this may do: anything else (slots
-- free, over the limit after it was lowered, a head that does not fit, nobody waiting) takes
-- the exclusive lock first, and looks at the queue again under it. (Every eighth handoff
-- also updates avg_slot_occupancy_seconds, a moving average, when the row is free to write.)
CREATE OR REPLACE FUNCTION _hand_on(p_ended history, p_limits limits[], p_now timestamptz, p_shared boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_held double precision := extract(epoch FROM p_now - p_ended.granted_at);
  v_sampled boolean := p_ended.fencing_token % 8 = 0;
  v_limit limits := p_limits[1];
  v_head waiters;
  v_probed boolean := false;
BEGIN
  IF cardinality(p_limits) = 1 AND _counts_slots(v_limit)
     AND (v_limit.active_slots = v_limit.slots OR (NOT p_shared AND v_limit.active_slots < v_limit.slots)) THEN
    v_probed := true;
    v_head := _head_for_handoff(v_limit.name, p_ended.occupy, p_ended.counted);
  END IF;
  IF v_head.id IS NOT NULL THEN
    IF v_sampled AND (NOT p_shared OR EXISTS (SELECT 1 FROM limits WHERE name = v_limit.name FOR NO KEY UPDATE SKIP LOCKED)) THEN
      UPDATE limits SET avg_slot_occupancy_seconds = CASE WHEN avg_slot_occupancy_seconds = 0 THEN v_held
                                                          ELSE 0.8 * avg_slot_occupancy_seconds + 0.2 * v_held END
      WHERE name = v_limit.name;
    END IF;
    PERFORM _grant(v_head, p_now, p_ended.counted, false);
    -- Room beyond the freed slots (raised meanwhile) goes on down the queue.
    IF v_limit.active_slots >= v_limit.slots THEN RETURN; END IF;
  ELSE
    IF p_shared THEN
      -- Exclusive now (this transaction locks no waiter row yet, so it waits for nobody who waits for it).
      p_limits := ARRAY(SELECT l FROM limits l WHERE l.name = ANY (p_ended.counted) ORDER BY l.name FOR NO KEY UPDATE);
      PERFORM _hand_on(p_ended, p_limits, p_now, false);
      RETURN;
    END IF;
    UPDATE limits SET
      active_slots = active_slots - p_ended.occupy,
      avg_slot_occupancy_seconds = CASE WHEN avg_slot_occupancy_seconds = 0 THEN v_held
                                        ELSE 0.8 * avg_slot_occupancy_seconds + 0.2 * v_held END
    WHERE name = ANY (p_ended.counted);
  END IF;
  PERFORM _grant_waiters(p_ended.counted);
END $$;
