-- Refuses a duration the caller chose (ttl, heartbeat) outside the rule of _duration_ok.
CREATE OR REPLACE FUNCTION _check_interval(p_field text, p_value interval) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF NOT _duration_ok(p_value) THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('%s: {{duration.range}}, got %s', p_field, coalesce(p_value::text, 'NULL'));
  END IF;
END $$;
