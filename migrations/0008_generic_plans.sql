-- Up Migration
-- Every statement inside the functions takes parameters, and the planner kept choosing
-- custom plans for them: each call re-planned about fifteen statements, which was more
-- than half of an acquire's time in the database. Their plans do not depend on the values
-- (primary-key and index lookups on small sets), so the public functions run with
-- plan_cache_mode = force_generic_plan, inherited by the internal helpers they call.
-- _pin_search_path() now pins both settings; later migrations keep calling it.

-- The public (non-underscore) functions of this schema.
CREATE OR REPLACE FUNCTION _public_functions() RETURNS SETOF regprocedure LANGUAGE sql STABLE AS $$
  SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = current_schema() AND p.proname NOT LIKE '\_%'
$$;

CREATE OR REPLACE FUNCTION _pin_search_path() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_function regprocedure;
BEGIN
  FOR v_function IN SELECT * FROM _public_functions() LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', v_function, current_schema());
    EXECUTE format('ALTER FUNCTION %s SET plan_cache_mode = force_generic_plan', v_function);
  END LOOP;
END $$;
SELECT _pin_search_path();

-- Down Migration
DO $$
DECLARE
  v_function regprocedure;
BEGIN
  FOR v_function IN SELECT * FROM _public_functions() LOOP
    EXECUTE format('ALTER FUNCTION %s RESET plan_cache_mode', v_function);
  END LOOP;
END $$;
-- _pin_search_path() as migration 0004 left it: search_path only (_public_functions stays for it).
CREATE OR REPLACE FUNCTION _pin_search_path() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_function regprocedure;
BEGIN
  FOR v_function IN SELECT * FROM _public_functions() LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', v_function, current_schema());
  END LOOP;
END $$;
