-- Takes budget from rate limits (slot_decay_per_second > 0) without holding anything: the
-- budget drains by itself. Queues like acquire() when the budget is short; the client
-- releases the lease of a waiter's grant at once.
CREATE OR REPLACE FUNCTION rate_limit(p_names text[], p_occupy integer, p_holder jsonb DEFAULT '{}',
                                      p_wait boolean DEFAULT false, p_strict boolean DEFAULT false,
                                      p_heartbeat interval DEFAULT '15 seconds',
                                      p_listener_pid integer DEFAULT NULL, p_priority integer DEFAULT 0)
RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_plain text;
  v_result acquire_result;
BEGIN
  SELECT name INTO v_plain FROM limits
  WHERE name = ANY (p_names) AND _counts_slots(limits) ORDER BY name LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('names: %s is not a rate limit (slotDecayPerSecond is 0); use acquire()', quote_literal(v_plain));
  END IF;
  v_result := acquire(p_names, p_occupy, interval '1 minute', p_holder, p_wait, p_strict, p_heartbeat,
                      p_listener_pid, NULL, p_priority);
  IF v_result.status = 'acquired' AND v_result.lease_id IS NOT NULL THEN
    PERFORM _end_lease_by_id(v_result.lease_id, 'released', false);
    v_result.lease_id := NULL;
  END IF;
  RETURN v_result;
END $$;
