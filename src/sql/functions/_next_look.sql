-- When a waiter behind the first live one should look again: the next time a lease counted
-- on its limits expires (strictly later than now, so it never spins). The waiter ahead is
-- responsible for that expiry; if it died meanwhile, this one's claim() finds itself first
-- live and takes the expiry over. NULL when no lease on these limits will expire.
CREATE OR REPLACE FUNCTION _next_look(p_names text[]) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN least(
    (SELECT min(le.expires_at) FROM unnest(p_names) AS n (name), LATERAL (
       SELECT expires_at FROM leases WHERE counted[1] = n.name AND expires_at > clock_timestamp()
       ORDER BY expires_at LIMIT 1) AS le),
    (SELECT le.expires_at FROM leases le WHERE cardinality(le.counted) > 1 AND le.counted && p_names
       AND le.expires_at > clock_timestamp() ORDER BY le.expires_at LIMIT 1));
END $$;
