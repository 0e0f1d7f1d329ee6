-- Up Migration
-- claim() read its waiter row, saw it ungranted and not first in line, and heartbeated it
-- with an UPDATE ... WHERE lease_id IS NULL. When another transaction granted the waiter
-- in between, that UPDATE waited for it, then matched nothing, and claim() answered
-- 'gone': the client queued again and took a second grant while the first one sat
-- unclaimed until it expired (a rate limit's budget spent twice). claim() now looks once
-- more when it would answer 'gone' for a row that holds a grant. The earlier claim lives
-- on as _claim under the new one.
ALTER FUNCTION claim(uuid) RENAME TO _claim;
CREATE FUNCTION claim(p_waiter_id uuid) RETURNS acquire_result LANGUAGE plpgsql AS $$
DECLARE
  v_result acquire_result := _claim(p_waiter_id);
BEGIN
  IF v_result.status = 'gone'
     AND EXISTS (SELECT 1 FROM waiters WHERE id = p_waiter_id AND lease_id IS NOT NULL) THEN
    v_result := _claim(p_waiter_id);
  END IF;
  RETURN v_result;
END $$;

-- Like 0009: runs as its owner, not executable by PUBLIC, callable by whoever could call
-- the earlier claim.
ALTER FUNCTION claim(uuid) SECURITY DEFINER;
REVOKE EXECUTE ON FUNCTION claim(uuid) FROM PUBLIC;
DO $$
DECLARE
  v_role text;
BEGIN
  FOR v_role IN
    SELECT a.grantee::regrole::text FROM pg_proc p, aclexplode(p.proacl) AS a
    WHERE p.oid = '_claim(uuid)'::regprocedure AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0
      AND a.grantee <> p.proowner
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION claim(uuid) TO %s', v_role);
  END LOOP;
END $$;
SELECT _pin_search_path();

-- Down Migration
DROP FUNCTION claim(uuid);
ALTER FUNCTION _claim(uuid) RENAME TO claim;
