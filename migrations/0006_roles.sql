-- Up Migration
-- Database roles. The public functions run as their owner (SECURITY DEFINER, with the
-- pinned search_path), so workers need no table privileges at all; nothing in the schema
-- is executable by PUBLIC. grant_roles() hands out exactly three kinds of access:
--   worker: acquire, take rate budget, wait, renew, release, reap (holding a lease id is
--           the capability to release it; workers cannot read lease ids of others)
--   reader: SELECT on the dashboard views only
--   admin:  worker + reader, plus limits administration, revoke, and SELECT on the tables

DO $$
DECLARE
  v_function regprocedure;
BEGIN
  FOR v_function IN
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = current_schema() AND p.proname NOT LIKE '\_%'
  LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER', v_function);
  END LOOP;
  EXECUTE format('REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA %I FROM PUBLIC', current_schema());
END $$;

CREATE FUNCTION grant_roles(p_worker text DEFAULT NULL, p_reader text DEFAULT NULL, p_admin text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_schema text := current_schema();
  v_worker_functions text[] := ARRAY[
    'acquire(text[], integer, interval, jsonb, boolean, boolean, interval)',
    'rate_limit(text[], integer, jsonb, boolean, boolean, interval)',
    'claim(uuid)', 'heartbeat(uuid[])', 'cancel_wait(uuid)', 'renew(uuid, interval)',
    'release(uuid)', 'reap()', 'lease_valid(bigint)'];
  v_admin_functions text[] := ARRAY[
    'put_limit(text, integer, boolean, double precision, text)', 'delete_limit(text)', 'revoke(bigint)'];
  v_views text[] := ARRAY['limit_status', 'active_leases', 'waiting', 'events', 'stats_per_minute'];
  v_role text;
  v_item text;
BEGIN
  FOREACH v_role IN ARRAY ARRAY[p_worker, p_admin] LOOP
    CONTINUE WHEN v_role IS NULL;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_schema, v_role);
    FOREACH v_item IN ARRAY v_worker_functions LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%s TO %I', v_schema, v_item, v_role);
    END LOOP;
  END LOOP;
  FOREACH v_role IN ARRAY ARRAY[p_reader, p_admin] LOOP
    CONTINUE WHEN v_role IS NULL;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_schema, v_role);
    FOREACH v_item IN ARRAY v_views LOOP
      EXECUTE format('GRANT SELECT ON %I.%I TO %I', v_schema, v_item, v_role);
    END LOOP;
  END LOOP;
  IF p_admin IS NOT NULL THEN
    FOREACH v_item IN ARRAY v_admin_functions LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%s TO %I', v_schema, v_item, p_admin);
    END LOOP;
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', v_schema, p_admin);
  END IF;
END $$;
REVOKE EXECUTE ON FUNCTION grant_roles(text, text, text) FROM PUBLIC;
SELECT _pin_search_path();

-- Down Migration
DROP FUNCTION grant_roles(text, text, text);
