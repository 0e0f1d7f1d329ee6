-- True for a limit that counts held slots: active, and a concurrency limit (a rate limit's
-- budget drains by itself and is never held). A lease's `counted` lists these.
CREATE OR REPLACE FUNCTION _counts_slots(p_limit limits) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT p_limit.active AND p_limit.slot_decay_per_second = 0
$$;
