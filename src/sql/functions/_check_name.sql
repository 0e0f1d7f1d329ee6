-- A limit name: 1-200 characters, no control characters, and '*' only as the last character
-- (a template, such as gpu:*), after a non-empty prefix: a catch-all '*' would silently
-- guard every misspelt name.
CREATE OR REPLACE FUNCTION _check_name(p_name text) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_name IS NULL OR char_length(p_name) NOT BETWEEN 1 AND 200 OR p_name ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('name: must be 1-200 characters without control characters, got %s',
                       coalesce(quote_literal(left(p_name, 60)), 'NULL'));
  END IF;
  IF strpos(left(p_name, -1), '*') > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('name: ''*'' may only end a template name (gpu:*), got %s', quote_literal(left(p_name, 60)));
  END IF;
  IF p_name = '*' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = 'name: a template needs a prefix before ''*'' (gpu:*); a catch-all would guard every misspelt name';
  END IF;
END $$;
