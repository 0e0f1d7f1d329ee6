-- Line order per limit (higher priority first, then FIFO): true when nobody ahead of this
-- waiter stands in any queue it stands in. (PL/pgSQL: see _next_wake.)
CREATE OR REPLACE FUNCTION _is_first_in_line(p_queues text[], p_priority integer, p_ticket bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN NOT EXISTS (SELECT 1 FROM waiters WHERE queue = ANY (p_queues)
                     AND (priority > p_priority OR (priority = p_priority AND ticket < p_ticket)));
END $$;
