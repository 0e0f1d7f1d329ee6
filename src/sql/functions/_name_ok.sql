-- A limit name's size and characters: {{name.maxChars}} characters at most, at least one,
-- no control characters (src/sql/rules.ts). False for NULL. One SQL expression, so it is
-- inlined where it is used: _check_name says what is wrong, _check_request screens every
-- requested name with it before any lock.
CREATE OR REPLACE FUNCTION _name_ok(p_name text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT p_name IS NOT NULL AND char_length(p_name) BETWEEN 1 AND {{name.maxChars}} AND p_name !~ '[[:cntrl:]]'
$$;
