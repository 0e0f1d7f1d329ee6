-- Frees the slots of a lease that just ended (p_limits: its locked limit rows as they were
-- before) and hands them to the waiters, in the same transaction.
-- In place, the common case: the lease held one concurrency limit and the head of its
-- queue asks for exactly those slots of that limit alone. The slots pass straight to the
-- head and the counter stays as it is: one probe of the queue, one update of the limit
-- (statistics), the grant. Otherwise the counters drop and the grant loop runs, unless
-- the one probe found nobody waiting.
CREATE OR REPLACE FUNCTION _hand_on(p_ended history, p_limits limits[], p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_held double precision := extract(epoch FROM p_now - p_ended.granted_at);
  v_limit limits := p_limits[1];
  v_head waiters;
  v_probed boolean := false;
  v_in_place boolean := false;
BEGIN
  IF cardinality(p_limits) = 1 AND v_limit.active AND v_limit.slot_decay_per_second = 0
     AND v_limit.active_slots <= v_limit.slots THEN
    SELECT * INTO v_head FROM waiters WHERE queue = v_limit.name ORDER BY ticket LIMIT 1;
    v_probed := true;
    v_in_place := FOUND AND v_head.occupy = p_ended.occupy AND v_head.names = p_ended.counted
                  AND v_head.expires_at > p_now AND NOT _listener_gone(v_head.listener_pid);
  END IF;
  UPDATE limits SET
    active_slots = active_slots - CASE WHEN v_in_place THEN 0 ELSE p_ended.occupy END,
    avg_slot_occupancy_seconds = CASE WHEN avg_slot_occupancy_seconds = 0 THEN v_held
                                      ELSE 0.8 * avg_slot_occupancy_seconds + 0.2 * v_held END,
    denied_slots = denied_slots + CASE WHEN v_in_place AND name = ANY (v_head.denied) THEN v_head.occupy ELSE 0 END
  WHERE name = ANY (p_ended.counted);
  IF v_in_place THEN
    PERFORM _grant(v_head, p_now, p_ended.counted);
    -- Room beyond the freed slots (raised meanwhile) goes on down the queue.
    IF v_limit.active_slots >= v_limit.slots THEN RETURN; END IF;
  ELSIF v_probed AND v_head.id IS NULL THEN
    RETURN; -- nobody waits
  END IF;
  PERFORM _grant_waiters(p_ended.counted);
END $$;
