-- Frees the slots of a lease that just ended (p_limits: its locked limit rows as they were
-- before) and hands them to the waiters, in the same transaction.
-- In place, the common case: the lease held one concurrency limit and the head of its
-- queue asks for exactly those slots of that limit alone. The slots pass straight to the
-- head and the limit row is not written at all: one probe of the queue, one statement
-- that turns the waiter into its lease, the NOTIFY. (avg_slot_occupancy_seconds, a moving
-- average, takes every fourth of these handoffs: only those write the row.) Otherwise
-- the counters drop and the grant loop runs, unless the one probe found nobody waiting.
CREATE OR REPLACE FUNCTION _hand_on(p_ended history, p_limits limits[], p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_held double precision := extract(epoch FROM p_now - p_ended.granted_at);
  v_sampled boolean := p_ended.fencing_token % 4 = 0;
  v_limit limits := p_limits[1];
  v_head waiters;
  v_probed boolean := false;
  v_in_place boolean := false;
BEGIN
  IF cardinality(p_limits) = 1 AND _counts_slots(v_limit)
     AND v_limit.active_slots <= v_limit.slots THEN
    SELECT * INTO v_head FROM waiters WHERE queue = v_limit.name ORDER BY priority DESC, ticket LIMIT 1;
    v_probed := true;
    v_in_place := FOUND AND v_head.occupy = p_ended.occupy AND v_head.names = p_ended.counted
                  AND _waiter_live(v_head.expires_at, v_head.listener_pid);
  END IF;
  IF NOT v_in_place OR v_sampled THEN
    UPDATE limits SET
      active_slots = active_slots - CASE WHEN v_in_place THEN 0 ELSE p_ended.occupy END,
      avg_slot_occupancy_seconds = CASE WHEN avg_slot_occupancy_seconds = 0 THEN v_held
                                        ELSE 0.8 * avg_slot_occupancy_seconds + 0.2 * v_held END
    WHERE name = ANY (p_ended.counted);
  END IF;
  IF v_in_place THEN
    PERFORM _grant(v_head, p_now, p_ended.counted, false);
    -- Room beyond the freed slots (raised meanwhile) goes on down the queue.
    IF v_limit.active_slots >= v_limit.slots THEN RETURN; END IF;
  ELSIF v_probed AND v_head.id IS NULL THEN
    RETURN; -- nobody waits
  END IF;
  PERFORM _grant_waiters(p_ended.counted);
END $$;
