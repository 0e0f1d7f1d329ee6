-- The first half of the session advisory lock a LISTEN connection holds while it lives
-- (the second half is its backend pid). Part of the wire protocol: src/wait/listener.ts
-- takes pg_advisory_lock(hashtext('pgslots_' || schema), pid) with the same value.
CREATE OR REPLACE FUNCTION _listener_lock_key() RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT hashtext('pgslots_' || current_schema())
$$;
