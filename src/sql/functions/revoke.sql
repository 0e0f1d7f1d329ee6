-- Ends the lease with this (public) fencing token; its holder learns at its next renewal.
CREATE OR REPLACE FUNCTION revoke(p_fencing_token bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RETURN coalesce((SELECT _end_lease_by_id(id, 'revoked', false) FROM leases WHERE fencing_token = p_fencing_token),
                  false);
END $$;
