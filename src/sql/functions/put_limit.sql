-- Creates, updates or upserts a limit (p_mode). NULL fields are left unchanged on update.
-- Raising slots or enabling a limit hands the new room to waiters in the same transaction.
-- A name ending in '*' is a template: its settings are copied into the limits it creates.
CREATE OR REPLACE FUNCTION put_limit(p_name text, p_slots integer, p_active boolean,
                                     p_slot_decay_per_second double precision, p_mode text)
RETURNS limits LANGUAGE plpgsql AS $$
DECLARE
  v_limit limits;
  v_old limits;
BEGIN
  PERFORM _check_name(p_name);
  IF p_mode IS NULL OR p_mode NOT IN ('create', 'update', 'upsert') THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('mode: must be create, update or upsert, got %s', coalesce(p_mode, 'NULL'));
  END IF;
  IF p_slots < 0 OR (p_slots IS NULL AND p_mode <> 'update') THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('slots: must be an integer >= 0, got %s', coalesce(p_slots::text, 'NULL'));
  END IF;
  IF p_slot_decay_per_second < 0 OR p_slot_decay_per_second >= 'Infinity'
     OR p_slot_decay_per_second = 'NaN' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('slotDecayPerSecond: must be a finite number >= 0, got %s', p_slot_decay_per_second);
  END IF;
  IF p_mode <> 'update' THEN
    INSERT INTO limits (name, slots, active, slot_decay_per_second)
    VALUES (p_name, p_slots, coalesce(p_active, true), coalesce(p_slot_decay_per_second, 0))
    ON CONFLICT (name) DO NOTHING
    RETURNING * INTO v_limit;
    IF FOUND THEN
      PERFORM _record_limit_change(v_limit, 'limit_changed');
      RETURN v_limit;
    END IF;
    IF p_mode = 'create' AND right(p_name, 1) = '*' THEN
      RAISE EXCEPTION USING ERRCODE = 'PS400',
        MESSAGE = format('name: template %s already exists (limits.update() changes it)', quote_literal(p_name));
    END IF;
    IF p_mode = 'create' THEN
      RAISE EXCEPTION USING ERRCODE = 'PS409', MESSAGE = format('limit already exists: %s', quote_literal(p_name));
    END IF;
  END IF;
  SELECT * INTO v_old FROM limits WHERE name = p_name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS404', MESSAGE = format('limit not found: %s', p_name);
  END IF;
  -- The bucket drains at the old rate up to now, at the new rate from now on.
  UPDATE limits SET slots = coalesce(p_slots, slots), active = coalesce(p_active, active),
    slot_decay_per_second = coalesce(p_slot_decay_per_second, slot_decay_per_second),
    decaying_slots = _bucket_level(limits, clock_timestamp()), decayed_at = clock_timestamp(),
    updated_at = clock_timestamp()
  WHERE name = p_name
  RETURNING * INTO v_limit;
  IF (v_limit.slots, v_limit.active, v_limit.slot_decay_per_second)
     IS DISTINCT FROM (v_old.slots, v_old.active, v_old.slot_decay_per_second) THEN
    PERFORM _record_limit_change(v_limit, 'limit_changed');
  END IF;
  PERFORM _grant_waiters(ARRAY[p_name]);
  SELECT * INTO v_limit FROM limits WHERE name = p_name;
  RETURN v_limit;
END $$;
