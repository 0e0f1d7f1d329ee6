-- Durations the caller chooses (ttl, heartbeat): between 100 ms and 7 days.
CREATE OR REPLACE FUNCTION _check_interval(p_field text, p_value interval) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value IS NULL OR p_value < interval '100 milliseconds' OR p_value > interval '7 days' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('%s: must be between 100 ms and 7 days, got %s', p_field, coalesce(p_value::text, 'NULL'));
  END IF;
END $$;
