-- True when the waiter's process is known to be gone. A listening connection holds the
-- session advisory lock (_listener_lock_key(), its pid) for as long as it lives; when a
-- shared try-lock on that key succeeds, nobody holds it any more. This runs under the
-- limit lock: a lookup in pg_stat_get_activity costs about 30 times more.
CREATE OR REPLACE FUNCTION _listener_gone(p_pid integer) RETURNS boolean LANGUAGE sql VOLATILE AS $$
  SELECT p_pid IS NOT NULL AND pg_try_advisory_xact_lock_shared(_listener_lock_key(), p_pid)
$$;
