-- Up Migration
-- Limit administration and expiry.

-- Creates, updates or upserts a limit (p_mode). NULL fields are left unchanged on update.
-- Raising slots or enabling a limit hands the new room to waiters in the same transaction.
CREATE FUNCTION put_limit(p_name text, p_slots integer, p_active boolean,
                          p_slot_decay_per_second double precision, p_mode text)
RETURNS limits LANGUAGE plpgsql AS $$
DECLARE
  v_limit limits;
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
    IF FOUND THEN RETURN v_limit; END IF;
    IF p_mode = 'create' THEN
      RAISE EXCEPTION USING ERRCODE = 'PS409', MESSAGE = format('limit already exists: %s', quote_literal(p_name));
    END IF;
  END IF;
  -- The bucket drains at the old rate up to now, at the new rate from now on.
  UPDATE limits SET slots = coalesce(p_slots, slots), active = coalesce(p_active, active),
    slot_decay_per_second = coalesce(p_slot_decay_per_second, slot_decay_per_second),
    decaying_slots = _bucket_level(limits, clock_timestamp()), decayed_at = clock_timestamp(),
    updated_at = clock_timestamp()
  WHERE name = p_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS404', MESSAGE = format('limit not found: %s', p_name);
  END IF;
  PERFORM _grant_waiters(ARRAY[p_name]);
  SELECT * INTO v_limit FROM limits WHERE name = p_name;
  RETURN v_limit;
END $$;

-- Deletes a limit; leases stop counting against it and its waiters stop waiting for it.
CREATE FUNCTION delete_limit(p_name text) RETURNS limits LANGUAGE plpgsql AS $$
DECLARE
  v_limit limits;
  v_waiter waiters;
  v_affected uuid[];
BEGIN
  PERFORM _check_name(p_name);
  SELECT * INTO v_limit FROM limits WHERE name = p_name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS404', MESSAGE = format('limit not found: %s', p_name);
  END IF;
  v_affected := ARRAY(SELECT waiter_id FROM waiter_limits WHERE limit_name = p_name ORDER BY ticket);
  DELETE FROM limits WHERE name = p_name;
  FOR v_waiter IN SELECT * FROM waiters WHERE id = ANY (v_affected) ORDER BY ticket LOOP
    PERFORM _try_grant(v_waiter);
  END LOOP;
  RETURN v_limit;
END $$;

-- Ends expired leases and waiters, hands their slots on, prunes old events. Never waits
-- for a lock: whatever is busy is left to the next call or to the transaction holding it.
CREATE FUNCTION reap(OUT expired_leases integer, OUT expired_waiters integer, OUT pruned_events integer)
LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
BEGIN
  expired_leases := 0;
  expired_waiters := 0;
  FOR v_id IN SELECT id FROM leases WHERE expires_at <= clock_timestamp() ORDER BY expires_at LIMIT 10000 LOOP
    IF _end_lease(v_id, 'expired', true) IS NOT NULL THEN
      expired_leases := expired_leases + 1;
    END IF;
  END LOOP;
  FOR v_id IN SELECT id FROM waiters WHERE expires_at <= clock_timestamp() AND lease_id IS NULL
              ORDER BY expires_at LIMIT 10000 LOOP
    IF _end_waiter(v_id, true) THEN
      expired_waiters := expired_waiters + 1;
    END IF;
  END LOOP;
  DELETE FROM event_log WHERE at < clock_timestamp()
    - coalesce((SELECT value::interval FROM settings WHERE key = 'event_retention'), interval '7 days');
  GET DIAGNOSTICS pruned_events = ROW_COUNT;
END $$;

-- Pins search_path on every public function of this schema, so callers' search_path
-- cannot redirect the unqualified table names inside them. Internal `_` helpers run under
-- the pinned path of their caller; pinning them too would cost a GUC switch per nested
-- call on the hot path. Re-run by each later migration.
CREATE FUNCTION _pin_search_path() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_function regprocedure;
BEGIN
  FOR v_function IN
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = current_schema() AND p.proname NOT LIKE '\_%'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', v_function, current_schema());
  END LOOP;
END $$;
SELECT _pin_search_path();

-- Down Migration
DROP FUNCTION _pin_search_path();
DROP FUNCTION reap();
DROP FUNCTION delete_limit(text);
DROP FUNCTION put_limit(text, integer, boolean, double precision, text);
