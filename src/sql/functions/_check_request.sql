-- Validates the arguments of a slot request and returns the distinct names, sorted (the
-- order limit rows are locked in). Runs before any lock is taken.
CREATE OR REPLACE FUNCTION _check_request(p_names text[], p_occupy integer, p_ttl interval)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  v_bad text;
BEGIN
  IF p_names IS NULL OR cardinality(p_names) = 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = 'names: at least one limit name is required';
  END IF;
  SELECT n INTO v_bad FROM unnest(p_names) AS n
  WHERE n IS NULL OR char_length(n) NOT BETWEEN 1 AND 200 OR n ~ '[[:cntrl:]]' LIMIT 1;
  IF FOUND THEN
    PERFORM _check_name(v_bad);
  END IF;
  IF p_occupy IS NULL OR p_occupy < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = format('occupy: must be an integer >= 1, got %s', p_occupy);
  END IF;
  PERFORM _check_interval('ttl', p_ttl);
  IF cardinality(p_names) = 1 THEN
    RETURN p_names;
  END IF;
  RETURN ARRAY(SELECT DISTINCT n FROM unnest(p_names) AS n ORDER BY n);
END $$;
