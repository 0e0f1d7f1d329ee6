-- Turns a waiter into its lease (same id): charges its limits (unless p_counted says the
-- caller handed slots over in place), removes it from every queue, and tells its process.
-- A listening waiter's grant is complete here and travels in the NOTIFY to its process
-- only, with a check only it can verify (sha256 over the grant and its secret id: any role
-- may NOTIFY). A polling waiter claims its grant, which lives one heartbeat until then.
CREATE OR REPLACE FUNCTION _grant(p_waiter waiters, p_now timestamptz, p_counted text[] DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
  v_grant text;
BEGIN
  v_lease := _create_lease(p_waiter.id, p_waiter.names, p_waiter.occupy, p_waiter.ttl, p_waiter.holder,
                           p_waiter.asked_at, p_now,
                           p_now + CASE WHEN p_waiter.listener_pid IS NULL
                                        THEN least(p_waiter.ttl, p_waiter.heartbeat) ELSE p_waiter.ttl END,
                           p_waiter.ticket, p_waiter.denied, p_counted);
  DELETE FROM waiters WHERE queue = ANY (p_waiter.queues) AND ticket = p_waiter.ticket;
  IF p_waiter.listener_pid IS NOT NULL THEN
    -- Rounded down: the waiter must never think its lease lasts longer than it does.
    v_grant := p_waiter.ticket || ':' || v_lease.fencing_token || ':'
               || floor(extract(epoch FROM v_lease.expires_at) * 1000)::bigint;
    PERFORM pg_notify('pgslots_' || p_waiter.listener_pid,
      v_grant || ':' || encode(sha256(convert_to(v_grant || ':' || p_waiter.id, 'UTF8')), 'hex'));
  END IF;
END $$;
