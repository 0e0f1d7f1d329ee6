-- Gives every limit created from template p_name (e.g. 'gpu:*') the template's current
-- slots, decay and active flag, as limits.update() would (raised room goes to waiters at
-- once). Editing a template alone changes only the limits created after the edit.
-- Returns how many limits were updated.
CREATE OR REPLACE FUNCTION apply_template(p_name text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_template limits;
  v_name text;
  v_limit limits;
  v_count integer := 0;
BEGIN
  SELECT * INTO v_template FROM limits WHERE name = p_name AND name LIKE '%*';
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'PS404', MESSAGE = format('template not found: %s', p_name);
  END IF;
  FOR v_name IN SELECT name FROM limits WHERE template = p_name ORDER BY name LOOP
    v_limit := put_limit(v_name, v_template.slots, v_template.active, v_template.slot_decay_per_second, 'update');
    v_count := v_count + 1;
  END LOOP;
  RETURN v_count;
END $$;
