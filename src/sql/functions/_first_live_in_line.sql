-- Line order per limit (higher priority first, then FIFO): true when no live waiter stands
-- ahead of this one in any queue it stands in. The first live waiter is the one that must
-- look again when the next lease expires; dead waiters ahead of it are skipped, so a crashed
-- process never holds up the line. (PL/pgSQL: as _next_wake.)
CREATE OR REPLACE FUNCTION _first_live_in_line(p_queues text[], p_priority integer, p_ticket bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN NOT EXISTS (SELECT 1 FROM waiters WHERE queue = ANY (p_queues)
                     AND (priority > p_priority OR (priority = p_priority AND ticket < p_ticket))
                     AND _waiter_live(expires_at, listener_pid));
END $$;
