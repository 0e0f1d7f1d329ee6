-- A rate limit's bucket level at p_at: what was poured in, minus what drained since.
CREATE OR REPLACE FUNCTION _bucket_level(p_limit limits, p_at timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
  SELECT greatest(0, p_limit.decaying_slots
    - p_limit.slot_decay_per_second * extract(epoch FROM p_at - p_limit.decayed_at)::double precision)
$$;
