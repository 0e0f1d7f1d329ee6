-- Turns a waiter into its lease (same id), counted against p_counted: charges its limits
-- unless the caller handed the slots over in place (p_charge false), then takes the waiter
-- out of every queue and puts the lease in, in one statement. A listening waiter's grant
-- is complete here and travels to its process only, in the NOTIFY (or in the answer of
-- its own process's release_with_grants), with a check only it can verify (sha256 over
-- the grant and its secret id: any role may NOTIFY). A polling waiter claims its grant,
-- which lives one heartbeat until then.
CREATE OR REPLACE FUNCTION _grant(p_waiter waiters, p_now timestamptz, p_counted text[], p_charge boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_expires_at timestamptz := p_now + CASE WHEN p_waiter.listener_pid IS NULL
                                           THEN least(p_waiter.ttl, p_waiter.heartbeat) ELSE p_waiter.ttl END;
  v_fencing_token bigint;
  v_grant text;
BEGIN
  IF p_charge THEN
    PERFORM _charge(p_waiter.names, p_waiter.occupy, p_now);
  END IF;
  WITH taken AS (DELETE FROM waiters WHERE queue = ANY (p_waiter.queues) AND ticket = p_waiter.ticket)
  INSERT INTO leases (id, fencing_token, names, counted, occupy, holder, ttl, asked_at, acquired_at, expires_at, ticket)
  VALUES (p_waiter.id, _next_fencing_token(), p_waiter.names, p_counted, p_waiter.occupy, p_waiter.holder, p_waiter.ttl,
          p_waiter.asked_at, p_now, v_expires_at, p_waiter.ticket)
  RETURNING fencing_token INTO v_fencing_token;
  IF p_waiter.listener_pid IS NOT NULL THEN
    -- Rounded down: the waiter must never think its lease lasts longer than it does.
    v_grant := p_waiter.ticket || ':' || v_fencing_token || ':' || floor(extract(epoch FROM v_expires_at) * 1000)::bigint;
    v_grant := v_grant || ':' || encode(sha256(convert_to(v_grant || ':' || p_waiter.id, 'UTF8')), 'hex');
    -- A grant to the process that asks for its own (release_with_grants) goes in its answer.
    -- (A session that sets pgslots.answer_grants_of itself only keeps its own grants from being sent.)
    IF current_setting('pgslots.answer_grants_of', true) = p_waiter.listener_pid::text THEN
      PERFORM set_config('pgslots.answered_grants',
                         ltrim(current_setting('pgslots.answered_grants') || ' ' || v_grant), true);
    ELSE
      PERFORM pg_notify(_listener_channel(p_waiter.listener_pid), v_grant);
    END IF;
  END IF;
END $$;
