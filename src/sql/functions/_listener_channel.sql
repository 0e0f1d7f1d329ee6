-- The NOTIFY channel of the process whose LISTEN connection has backend pid p_pid: each
-- process listens on a channel of its own, so a grant wakes that process only. Part of
-- the wire protocol: src/wait/listener.ts LISTENs on the same name.
CREATE OR REPLACE FUNCTION _listener_channel(p_pid integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'pgslots_' || p_pid::text
$$;
