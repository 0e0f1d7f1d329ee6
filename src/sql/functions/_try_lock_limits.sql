-- Locks the existing limits among p_names without waiting; true when every one of them
-- was locked (rows this transaction already holds count as locked).
CREATE OR REPLACE FUNCTION _try_lock_limits(p_names text[]) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_locked integer;
BEGIN
  SELECT count(*) INTO v_locked FROM (
    SELECT 1 FROM limits WHERE name = ANY (p_names) ORDER BY name FOR UPDATE SKIP LOCKED
  ) AS l;
  RETURN v_locked = (SELECT count(*) FROM limits WHERE name = ANY (p_names));
END $$;
