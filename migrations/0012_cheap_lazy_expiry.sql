-- Up Migration
-- Every acquire first ends the expired leases of its limits (lazy expiry). Almost always
-- there are none, yet finding that out joined lease_limits with leases on every call. One
-- probe of the expires_at index (the earliest expiry) now says whether any lease at all
-- has expired; only then are this request's limits searched.

-- As in 0002, with that probe first.
CREATE OR REPLACE FUNCTION _expire_leases_on(p_names text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
  v_expired integer := 0;
BEGIN
  -- min() reads the first entry of the index; a WHERE on clock_timestamp() (volatile)
  -- could not use the index and scanned every lease.
  IF NOT coalesce((SELECT min(expires_at) FROM leases) <= clock_timestamp(), false) THEN
    RETURN 0;
  END IF;
  FOR v_id IN
    SELECT DISTINCT l.id FROM lease_limits ll JOIN leases l ON l.id = ll.lease_id
    WHERE ll.limit_name = ANY (p_names) AND l.expires_at <= clock_timestamp()
  LOOP
    IF _end_lease(v_id, 'expired', true) IS NOT NULL THEN
      v_expired := v_expired + 1;
    END IF;
  END LOOP;
  RETURN v_expired;
END $$;

-- Down Migration
-- Nothing to undo: the probe only skips a search that would have found nothing.
