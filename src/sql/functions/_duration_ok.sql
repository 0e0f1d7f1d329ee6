-- A duration the caller chooses (ttl, heartbeat): from {{duration.minMs}} ms to
-- {{duration.maxMs}} ms (src/sql/rules.ts). False for NULL. One SQL expression, so it is
-- inlined where it is used: _check_interval says what is wrong, _check_request screens
-- with it.
CREATE OR REPLACE FUNCTION _duration_ok(p_value interval) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT p_value IS NOT NULL
    AND p_value BETWEEN interval '{{duration.minMs}} milliseconds' AND interval '{{duration.maxMs}} milliseconds'
$$;
