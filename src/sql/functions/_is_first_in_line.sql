-- FIFO per limit: true when no earlier ticket waits in any queue this waiter stands in.
-- (PL/pgSQL: see _next_wake.)
CREATE OR REPLACE FUNCTION _is_first_in_line(p_queues text[], p_ticket bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN NOT EXISTS (SELECT 1 FROM waiters WHERE queue = ANY (p_queues) AND ticket < p_ticket);
END $$;
