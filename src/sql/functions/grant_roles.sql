-- Database roles. The public functions run as their owner (SECURITY DEFINER, pinned
-- search_path), so workers need no table privileges; nothing is executable by PUBLIC.
--   worker: acquire, take rate budget, wait, renew, release, reap (a lease id is the
--           capability to release it; workers cannot read the lease ids of others)
--   reader: SELECT on the views only (every view: none shows a lease or waiter id)
--   admin:  worker + reader, plus limits administration, revoke, and SELECT on the tables
CREATE OR REPLACE FUNCTION grant_roles(p_worker text DEFAULT NULL, p_reader text DEFAULT NULL,
                                       p_admin text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_schema text := current_schema();
  v_worker_functions text[] := ARRAY['acquire', 'rate_limit', 'claim', 'heartbeat', 'cancel_wait', 'renew',
                                     'release', 'release_with_grants', 'reap', 'lease_valid'];
  v_admin_functions text[] := ARRAY['put_limit', 'rename_limit', 'delete_limit', 'revoke', 'apply_template'];
  v_role text;
  v_item text;
BEGIN
  FOREACH v_role IN ARRAY ARRAY[p_worker, p_reader, p_admin] LOOP
    CONTINUE WHEN v_role IS NULL;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_schema, v_role);
  END LOOP;
  FOREACH v_role IN ARRAY ARRAY[p_worker, p_admin] LOOP
    CONTINUE WHEN v_role IS NULL;
    FOR v_item IN SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = v_schema AND p.proname = ANY (v_worker_functions) LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_item, v_role);
    END LOOP;
  END LOOP;
  FOREACH v_role IN ARRAY ARRAY[p_reader, p_admin] LOOP
    CONTINUE WHEN v_role IS NULL;
    FOR v_item IN SELECT relname FROM pg_class WHERE relnamespace = v_schema::regnamespace AND relkind = 'v' LOOP
      EXECUTE format('GRANT SELECT ON %I.%I TO %I', v_schema, v_item, v_role);
    END LOOP;
  END LOOP;
  IF p_admin IS NOT NULL THEN
    FOR v_item IN SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = v_schema AND p.proname = ANY (v_admin_functions) LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_item, p_admin);
    END LOOP;
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', v_schema, p_admin);
  END IF;
END $$;
