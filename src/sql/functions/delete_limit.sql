-- Deletes a limit: its leases stop counting against it, and its waiters stop waiting for
-- it — granted when their other limits allow. A waiter that stood in no other queue is
-- removed and woken: its next look finds it gone and it asks again.
CREATE OR REPLACE FUNCTION delete_limit(p_name text) RETURNS limits LANGUAGE plpgsql AS $$
DECLARE
  v_limit limits;
  v_waiter waiters;
  v_others text[] := '{}';
BEGIN
  PERFORM _check_name(p_name);
  SELECT * INTO v_limit FROM limits WHERE name = p_name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS404', MESSAGE = format('limit not found: %s', p_name);
  END IF;
  DELETE FROM limits WHERE name = p_name;
  PERFORM _record_limit_change(v_limit, 'limit_deleted');
  UPDATE leases SET counted = array_remove(counted, p_name) WHERE counted @> ARRAY[p_name];
  FOR v_waiter IN DELETE FROM waiters WHERE queue = p_name RETURNING * LOOP
    IF cardinality(v_waiter.queues) = 1 THEN
      PERFORM _end_wait(v_waiter, clock_timestamp());
      IF v_waiter.listener_pid IS NOT NULL THEN
        PERFORM pg_notify(_listener_channel(v_waiter.listener_pid), v_waiter.ticket::text);
      END IF;
    ELSE
      UPDATE waiters SET queues = array_remove(queues, p_name), names = array_remove(names, p_name)
      WHERE id = v_waiter.id;
      v_others := v_others || array_remove(v_waiter.queues, p_name);
    END IF;
  END LOOP;
  IF cardinality(v_others) > 0 THEN
    -- Not waited for (that would break the name order of locks): when one is busy, the
    -- next release or poll on it grants them.
    v_others := ARRAY(SELECT DISTINCT n FROM unnest(v_others) AS n ORDER BY n);
    IF _try_lock_limits(v_others) THEN
      PERFORM _grant_waiters(v_others);
    END IF;
  END IF;
  RETURN v_limit;
END $$;
