-- A name a request may ask for: a valid limit name that is not a template (a template holds
-- no slots; the names it covers do).
CREATE OR REPLACE FUNCTION _check_requested_name(p_name text) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM _check_name(p_name);
  IF right(p_name, 1) = '*' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('names: %s {{name.template}}, such as %s',
                       quote_literal(p_name), quote_literal(left(p_name, -1) || 'worker-1'));
  END IF;
END $$;
