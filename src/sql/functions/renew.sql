-- Extends a live lease; a lease that expired, was revoked or was released is lost for good.
-- Touches the lease row only, never a limit row.
CREATE OR REPLACE FUNCTION renew(p_lease_id uuid, p_ttl interval) RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
  v_result acquire_result;
BEGIN
  IF NOT _duration_ok(p_ttl) THEN
    PERFORM _check_interval('ttl', p_ttl);
  END IF;
  UPDATE leases SET expires_at = clock_timestamp() + p_ttl, ttl = p_ttl
  WHERE id = p_lease_id AND expires_at > clock_timestamp()
  RETURNING * INTO v_lease;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS410',
      MESSAGE = 'lease lost: it expired, was revoked or was released';
  END IF;
  v_result.status := 'acquired';
  v_result.lease_id := v_lease.id;
  v_result.fencing_token := v_lease.fencing_token;
  v_result.expires_at := v_lease.expires_at;
  v_result.names := v_lease.names;
  v_result.db_now := clock_timestamp();
  RETURN v_result;
END $$;
