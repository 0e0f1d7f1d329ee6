-- The waiter that takes a released lease's slots in place (p_occupy of the one limit
-- p_queue, nothing else), its row locked: the first in line that no concurrent release is
-- handing slots to already (_handoff_mark). NULL when that waiter is not such a request
-- (another size, more limits) or is dead, or when nobody waits: the caller then frees the
-- slots under the limit's exclusive lock, where the grant loop deals with all of those.
-- Locking the row waits only for a heartbeat or poll of that waiter in flight. It finds the
-- row gone when the grant loop or a cancel took it meanwhile (they hold the limit lock, and
-- lock the head's row before they change it); the next one in line is tried then.
CREATE OR REPLACE FUNCTION _head_for_handoff(p_queue text, p_occupy integer, p_names text[])
RETURNS waiters LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_head waiters;
BEGIN
  FOR v_try IN 1..3 LOOP
    -- The first waiter that does not fit stops the search (no barging past it); only one
    -- that fits is marked.
    SELECT w.* INTO v_head
    FROM (SELECT * FROM waiters WHERE queue = p_queue ORDER BY priority DESC, ticket LIMIT 8) AS w
    WHERE NOT (w.occupy = p_occupy AND w.names = p_names AND _waiter_live(w.expires_at, w.listener_pid))
       OR _handoff_mark(w.ticket)
    LIMIT 1;
    IF NOT FOUND OR v_head.occupy <> p_occupy OR v_head.names <> p_names
       OR NOT _waiter_live(v_head.expires_at, v_head.listener_pid) THEN
      RETURN NULL;
    END IF;
    SELECT * INTO v_head FROM waiters WHERE queue = p_queue AND ticket = v_head.ticket FOR UPDATE;
    IF FOUND THEN RETURN v_head; END IF;
  END LOOP;
  RETURN NULL;
END $$;
