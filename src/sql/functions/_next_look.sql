-- When a waiter behind the first live one should look again: the next time a lease counted
-- on its limits expires (strictly later than now, so it never spins). The waiter ahead is
-- responsible for that expiry; if it died meanwhile, this one's claim() finds itself first
-- live and takes the expiry over. NULL when no lease on these limits will expire.
CREATE OR REPLACE FUNCTION _next_look(p_names text[]) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT min(_lease_expiry_on(n, true)) FROM unnest(p_names) AS n);
END $$;
