-- Removes a waiter that ends without a grant (cancelled, timed out, expired, its process
-- gone) from every queue, and writes its one history row. The caller holds its limit locks.
CREATE OR REPLACE FUNCTION _end_wait(p_waiter waiters, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM waiters WHERE queue = ANY (p_waiter.queues) AND ticket = p_waiter.ticket;
  INSERT INTO history (kind, names, occupy, ticket, holder, asked_at, ended_at)
  VALUES ('cancelled', p_waiter.names, p_waiter.occupy, p_waiter.ticket, p_waiter.holder,
          p_waiter.asked_at, p_now);
END $$;
