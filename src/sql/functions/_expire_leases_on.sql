-- Lazy expiry: ends the expired leases counted against these (locked) limits and hands
-- their slots on, so a crashed holder's slots go to the next waiter at its ttl. Almost
-- always nothing has expired: min() reads the first entry of the expires_at index and
-- says so (a WHERE on clock_timestamp(), volatile, could not use the index).
CREATE OR REPLACE FUNCTION _expire_leases_on(p_names text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
  v_expired integer := 0;
BEGIN
  IF NOT coalesce((SELECT min(expires_at) FROM leases) <= clock_timestamp(), false) THEN
    RETURN 0;
  END IF;
  FOR v_id IN
    SELECT id FROM leases WHERE counted && p_names AND expires_at <= clock_timestamp()
  LOOP
    IF _end_lease_by_id(v_id, 'expired', true) THEN
      v_expired := v_expired + 1;
    END IF;
  END LOOP;
  RETURN v_expired;
END $$;
