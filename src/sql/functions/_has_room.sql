-- True when p_occupy more slots fit: held slots for a concurrency limit, the bucket for a
-- rate limit; an inactive limit always has room.
CREATE OR REPLACE FUNCTION _has_room(p_limit limits, p_occupy integer, p_at timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT p_limit.active OR CASE
    WHEN p_limit.slot_decay_per_second > 0 THEN _bucket_level(p_limit, p_at) + p_occupy <= p_limit.slots
    ELSE p_limit.active_slots + p_occupy <= p_limit.slots END
$$;
