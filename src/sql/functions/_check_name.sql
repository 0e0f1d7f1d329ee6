-- A limit name: 1-200 characters, no control characters.
CREATE OR REPLACE FUNCTION _check_name(p_name text) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_name IS NULL OR char_length(p_name) NOT BETWEEN 1 AND 200 OR p_name ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('name: must be 1-200 characters without control characters, got %s',
                       coalesce(quote_literal(left(p_name, 60)), 'NULL'));
  END IF;
END $$;
