-- Creates a lease on the existing limits p_names (the caller holds their locks) in one
-- statement: charges every active limit — a held slot on a concurrency limit, budget from
-- a rate limit's bucket — and records on the lease the concurrency limits it holds slots on.
CREATE OR REPLACE FUNCTION _create_lease(p_id uuid, p_names text[], p_occupy integer, p_ttl interval,
                                         p_holder jsonb, p_asked_at timestamptz, p_now timestamptz,
                                         p_expires_at timestamptz, p_ticket bigint)
RETURNS leases LANGUAGE plpgsql AS $$
DECLARE
  v_lease leases;
BEGIN
  WITH charged AS (
    UPDATE limits SET
      active_slots = active_slots + CASE WHEN slot_decay_per_second = 0 THEN p_occupy ELSE 0 END,
      decaying_slots = CASE WHEN slot_decay_per_second > 0 THEN _bucket_level(limits, p_now) + p_occupy
                            ELSE decaying_slots END,
      decayed_at = CASE WHEN slot_decay_per_second > 0 THEN p_now ELSE decayed_at END
    WHERE name = ANY (p_names) AND active
    RETURNING name, slot_decay_per_second
  )
  INSERT INTO leases (id, names, counted, occupy, holder, ttl, asked_at, acquired_at, expires_at, ticket)
  SELECT p_id, p_names,
    coalesce(array_agg(name ORDER BY name) FILTER (WHERE slot_decay_per_second = 0), '{}'),
    p_occupy, p_holder, p_ttl, p_asked_at, p_now, p_expires_at, p_ticket
  FROM charged
  RETURNING * INTO v_lease;
  RETURN v_lease;
END $$;
