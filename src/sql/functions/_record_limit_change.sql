-- A limit change goes into history in the same transaction, under the same row lock:
-- dashboards show when a limit was raised, lowered, disabled or deleted, and a replay of
-- history knows which `slots` every lease was admitted against.
CREATE OR REPLACE FUNCTION _record_limit_change(p_limit limits, p_kind text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO history (kind, names, occupy, ended_at, slots, active, slot_decay_per_second)
  VALUES (p_kind, ARRAY[p_limit.name], 0, clock_timestamp(), p_limit.slots, p_limit.active,
          p_limit.slot_decay_per_second)
$$;
