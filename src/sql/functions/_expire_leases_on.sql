-- Lazy expiry: ends the expired leases counted against these (locked) limits and hands
-- their slots on, so a crashed holder's slots go to the next waiter at its ttl.
CREATE OR REPLACE FUNCTION _expire_leases_on(p_names text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
  v_expired integer := 0;
BEGIN
  FOR v_id IN
    -- (SELECT clock_timestamp()) is computed once, so the expires_at index can serve it.
    SELECT id FROM leases WHERE expires_at <= (SELECT clock_timestamp()) AND counted && p_names
  LOOP
    IF _end_lease_by_id(v_id, 'expired', true) THEN
      v_expired := v_expired + 1;
    END IF;
  END LOOP;
  RETURN v_expired;
END $$;
