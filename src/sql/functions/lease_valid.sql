-- True while the lease is live; the share lock keeps it from being ended until the
-- caller's transaction finishes, so writes fenced by it cannot race a release.
CREATE OR REPLACE FUNCTION lease_valid(p_fencing_token bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM leases WHERE fencing_token = p_fencing_token AND expires_at > clock_timestamp()
  FOR SHARE;
  RETURN FOUND;
END $$;
