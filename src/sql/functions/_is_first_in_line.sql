-- FIFO per limit: true when no earlier ticket waits in any queue this waiter stands in.
CREATE OR REPLACE FUNCTION _is_first_in_line(p_queues text[], p_ticket bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM waiters WHERE queue = ANY (p_queues) AND ticket < p_ticket)
$$;
