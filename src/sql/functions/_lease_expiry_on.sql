-- The earliest expiry of a lease counted on one limit (p_later: only those after now), for
-- _next_wake, _next_look, and acquire's waiter on one concurrency limit. Two index probes:
-- leases whose first counted limit it is, and the few counted on several limits. NULL
-- when no lease on it will expire. (PL/pgSQL: as _next_wake.)
CREATE OR REPLACE FUNCTION _lease_expiry_on(p_name text, p_later boolean) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN least(
    (SELECT min(expires_at) FROM leases
     WHERE counted[1] = p_name AND (NOT p_later OR expires_at > clock_timestamp())),
    (SELECT expires_at FROM leases
     WHERE cardinality(counted) > 1 AND p_name = ANY (counted) AND (NOT p_later OR expires_at > clock_timestamp())
     ORDER BY expires_at LIMIT 1));
END $$;
