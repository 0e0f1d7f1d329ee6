-- Gives up waiting: removes the waiter from its queues (the heads behind it may fit now),
-- or, when a grant raced the cancel, releases the lease that carries the waiter's id.
CREATE OR REPLACE FUNCTION cancel_wait(p_waiter_id uuid) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_waiter waiters;
BEGIN
  SELECT * INTO v_waiter FROM waiters WHERE id = p_waiter_id LIMIT 1;
  IF FOUND THEN
    PERFORM 1 FROM limits WHERE name = ANY (v_waiter.queues) ORDER BY name FOR UPDATE;
    -- Re-read under the limit locks: a grant may have landed meanwhile.
    SELECT * INTO v_waiter FROM waiters WHERE id = p_waiter_id LIMIT 1;
    IF FOUND THEN
      PERFORM _end_wait(v_waiter, clock_timestamp());
      PERFORM _grant_waiters(v_waiter.queues);
      RETURN true;
    END IF;
  END IF;
  RETURN _end_lease_by_id(p_waiter_id, 'released', false);
END $$;
