-- Validates the arguments of a slot request and returns the distinct names, sorted (the
-- order limit rows are locked in). Runs before any lock is taken. The bounds and words are
-- those of src/sql/rules.ts, which the client checks first: at most {{names.max}} names,
-- since a request locks one limit row per name for its whole transaction, and a holder of
-- at most {{holder.maxBytes}} bytes of JSON text, since it is copied into the lease, every
-- waiter row and history. Names and durations are screened with the inlined _name_ok and
-- _duration_ok; only a bad one costs the call that says what is wrong with it. An empty
-- list is valid: it guards nothing.
CREATE OR REPLACE FUNCTION _check_request(p_names text[], p_occupy integer, p_ttl interval, p_heartbeat interval,
                                          p_priority integer, p_holder jsonb)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  v_bad text;
BEGIN
  IF p_names IS NULL OR cardinality(p_names) > {{names.max}} THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('names: {{names.tooMany}}, got %s', coalesce(cardinality(p_names)::text, 'NULL'));
  END IF;
  IF octet_length(p_holder::text) > {{holder.maxBytes}} THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('holder: {{holder.tooBig}}, got %s bytes', octet_length(p_holder::text));
  END IF;
  IF p_occupy IS NULL OR p_occupy < {{occupy.min}} THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = format('occupy: {{occupy.range}}, got %s', p_occupy);
  END IF;
  IF p_priority IS NULL OR p_priority NOT BETWEEN {{priority.min}} AND {{priority.max}} THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = format('priority: {{priority.range}}, got %s', p_priority);
  END IF;
  IF NOT _duration_ok(p_ttl) THEN
    PERFORM _check_interval('ttl', p_ttl);
  END IF;
  IF NOT _duration_ok(p_heartbeat) THEN
    PERFORM _check_interval('heartbeat', p_heartbeat);
  END IF;
  IF cardinality(p_names) = 0 THEN
    RETURN p_names;
  END IF;
  IF cardinality(p_names) = 1 THEN
    IF NOT _name_ok(p_names[1]) OR strpos(p_names[1], '*') > 0 THEN
      PERFORM _check_requested_name(p_names[1]);
    END IF;
    RETURN p_names;
  END IF;
  SELECT n INTO v_bad FROM unnest(p_names) AS n WHERE NOT _name_ok(n) OR strpos(n, '*') > 0 LIMIT 1;
  IF FOUND THEN
    PERFORM _check_requested_name(v_bad);
  END IF;
  RETURN ARRAY(SELECT DISTINCT n FROM unnest(p_names) AS n ORDER BY n);
END $$;
