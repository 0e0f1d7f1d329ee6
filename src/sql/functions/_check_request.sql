-- Validates the arguments of a slot request and returns the distinct names, sorted (the
-- order limit rows are locked in). Runs before any lock is taken; a single name, the
-- common case, is checked without a query. An empty list is valid: it guards nothing.
-- Caps (the client checks the same ones first, with the same words): 100 names, since a
-- request locks one limit row per name for its whole transaction; a holder of 4096 bytes of
-- JSON text, since it is copied into the lease, every waiter row and history, and shown
-- whole by the listings.
CREATE OR REPLACE FUNCTION _check_request(p_names text[], p_occupy integer, p_ttl interval, p_heartbeat interval,
                                          p_priority integer, p_holder jsonb)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  v_bad text;
BEGIN
  IF p_names IS NULL OR cardinality(p_names) > 100 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('names: at most 100 names per request, got %s', coalesce(cardinality(p_names)::text, 'NULL'));
  END IF;
  IF octet_length(p_holder::text) > 4096 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('holder: at most 4096 bytes of JSON text, got %s bytes', octet_length(p_holder::text));
  END IF;
  IF p_occupy IS NULL OR p_occupy < 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = format('occupy: must be an integer >= 1, got %s', p_occupy);
  END IF;
  IF p_priority IS NULL OR p_priority NOT BETWEEN -1000 AND 1000 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = format('priority: must be an integer from -1000 to 1000, got %s', p_priority);
  END IF;
  IF p_ttl IS NULL OR p_ttl < interval '100 milliseconds' OR p_ttl > interval '7 days' THEN
    PERFORM _check_interval('ttl', p_ttl);
  END IF;
  IF p_heartbeat IS NULL OR p_heartbeat < interval '100 milliseconds' OR p_heartbeat > interval '7 days' THEN
    PERFORM _check_interval('heartbeat', p_heartbeat);
  END IF;
  IF cardinality(p_names) = 0 THEN
    RETURN p_names;
  END IF;
  IF cardinality(p_names) = 1 THEN
    IF p_names[1] IS NULL OR char_length(p_names[1]) NOT BETWEEN 1 AND 200 OR p_names[1] ~ '[[:cntrl:]*]' THEN
      PERFORM _check_requested_name(p_names[1]);
    END IF;
    RETURN p_names;
  END IF;
  SELECT n INTO v_bad FROM unnest(p_names) AS n
  WHERE n IS NULL OR char_length(n) NOT BETWEEN 1 AND 200 OR n ~ '[[:cntrl:]*]' LIMIT 1;
  IF FOUND THEN
    PERFORM _check_requested_name(v_bad);
  END IF;
  RETURN ARRAY(SELECT DISTINCT n FROM unnest(p_names) AS n ORDER BY n);
END $$;
