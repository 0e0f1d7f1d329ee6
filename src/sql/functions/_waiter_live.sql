-- The one liveness rule for a waiter: its heartbeat has not lapsed and, when it listens,
-- its listening connection still holds its advisory lock. A dead waiter keeps no place in
-- line: nobody waits behind it, and it is removed when a grant reaches it.
CREATE OR REPLACE FUNCTION _waiter_live(p_expires_at timestamptz, p_listener_pid integer) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
  SELECT p_expires_at > clock_timestamp() AND NOT _listener_gone(p_listener_pid)
$$;
