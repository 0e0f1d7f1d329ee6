-- Renames a limit (a template keeps being one: gpu:* becomes cpu:*, and the limits created
-- from it follow). Refused while any lease or waiter names it: their rows, their holders'
-- handles and the NOTIFY payloads on the way all carry the old name, and moving them under
-- their holders' feet is not worth a rare admin action. Under the limit row's lock no
-- lease or waiter can appear meanwhile. History keeps the old name on what happened before.
CREATE OR REPLACE FUNCTION rename_limit(p_name text, p_new_name text) RETURNS limits LANGUAGE plpgsql AS $$
DECLARE
  v_limit limits;
  v_leases integer;
  v_waiters integer;
BEGIN
  PERFORM _check_name(p_name);
  PERFORM _check_name(p_new_name);
  IF (right(p_name, 1) = '*') <> (right(p_new_name, 1) = '*') THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = format(
      'name: a template keeps a name ending in ''*'' and a limit one without, got %s for %s', p_new_name, p_name);
  END IF;
  SELECT * INTO v_limit FROM limits WHERE name = p_name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS404', MESSAGE = format('limit not found: %s', p_name);
  END IF;
  IF p_new_name = p_name THEN
    RETURN v_limit;
  END IF;
  IF EXISTS (SELECT 1 FROM limits WHERE name = p_new_name) THEN
    RAISE EXCEPTION USING ERRCODE = 'PS409', MESSAGE = format('limit already exists: %s', quote_literal(p_new_name));
  END IF;
  PERFORM _expire_leases_on(ARRAY[p_name]);
  SELECT count(*) INTO v_leases FROM leases WHERE p_name = ANY (names);
  SELECT count(DISTINCT id) INTO v_waiters FROM waiters WHERE p_name = ANY (names);
  IF v_leases + v_waiters > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'object_in_use', MESSAGE = format(
      'limit %s has %s live lease(s) and %s waiter(s); rename it when nobody holds or waits for it', p_name, v_leases, v_waiters);
  END IF;
  UPDATE limits SET name = p_new_name, updated_at = clock_timestamp() WHERE name = p_name RETURNING * INTO v_limit;
  UPDATE limits SET template = p_new_name WHERE template = p_name;
  PERFORM _record_limit_change(v_limit, 'limit_changed');
  RETURN v_limit;
END $$;
