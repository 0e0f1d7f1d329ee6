-- Refuses a bad limit name, saying what is wrong with it: its size or characters
-- (_name_ok), or a '*' anywhere but last (a template, such as gpu:*), or a '*' with no
-- prefix before it: a catch-all would silently guard every misspelt name.
CREATE OR REPLACE FUNCTION _check_name(p_name text) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF NOT _name_ok(p_name) THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('name: {{name.size}}, got %s', coalesce(quote_literal(left(p_name, 60)), 'NULL'));
  END IF;
  IF strpos(left(p_name, -1), '*') > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400',
      MESSAGE = format('name: {{name.star}}, got %s', quote_literal(left(p_name, 60)));
  END IF;
  IF p_name = '*' THEN
    RAISE EXCEPTION USING ERRCODE = 'PS400', MESSAGE = 'name: {{name.catchAll}}';
  END IF;
END $$;
