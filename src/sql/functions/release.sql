-- Ends a lease and hands its slots on in the same transaction. Idempotent: false when the
-- lease is already gone.
CREATE OR REPLACE FUNCTION release(p_lease_id uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RETURN _end_lease_by_id(p_lease_id, 'released', false, true);
END $$;
