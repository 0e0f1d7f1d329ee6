-- Charges the active limits among p_names (the caller holds their locks) for a new lease:
-- a held slot on a concurrency limit, budget from a rate limit's bucket.
CREATE OR REPLACE FUNCTION _charge(p_names text[], p_occupy integer, p_now timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE limits SET
    active_slots = active_slots + CASE WHEN _counts_slots(limits) THEN p_occupy ELSE 0 END,
    decaying_slots = CASE WHEN slot_decay_per_second > 0 THEN _bucket_level(limits, p_now) + p_occupy
                          ELSE decaying_slots END,
    decayed_at = CASE WHEN slot_decay_per_second > 0 THEN p_now ELSE decayed_at END
  WHERE name = ANY (p_names) AND active;
END $$;
