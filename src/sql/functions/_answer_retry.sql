-- A retried request (same request id) whose first answer was lost: answers with what the
-- first attempt took — its place in line, or its lease (a granted waiter's lease has the
-- waiter's id). Status NULL when the first attempt took nothing.
CREATE OR REPLACE FUNCTION _answer_retry(p_request_id uuid) RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_waiter waiters;
  v_lease leases;
  v_result acquire_result;
BEGIN
  SELECT * INTO v_waiter FROM waiters WHERE id = p_request_id AND expires_at > clock_timestamp() LIMIT 1;
  IF FOUND THEN
    v_result.status := 'waiting';
    v_result.waiter_id := v_waiter.id;
    v_result.ticket := v_waiter.ticket;
    v_result.names := v_waiter.names;
  ELSE
    SELECT * INTO v_lease FROM leases WHERE id = p_request_id AND expires_at > clock_timestamp();
    IF FOUND THEN
      v_result.status := 'acquired';
      v_result.lease_id := v_lease.id;
      v_result.fencing_token := v_lease.fencing_token;
      v_result.expires_at := v_lease.expires_at;
      v_result.names := v_lease.names;
    END IF;
  END IF;
  v_result.db_now := clock_timestamp();
  RETURN v_result;
END $$;
