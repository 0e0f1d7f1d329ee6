-- release, for a process that listens: the grants this release makes to waiters of the
-- listening connection p_listener_pid (the caller's own process) come back in the answer,
-- in the NOTIFY payload form, and are not notified; other waiters are notified as usual.
-- The process takes them at once, without waiting for a notification (which costs a
-- wake-up of the listening backend and holds the cluster's NOTIFY lock to commit).
-- The answer arrives after the commit, so a grant in it is durable, as a notified one.
-- _grant writes to the outbox named by the two transaction-local settings; both are reset
-- before returning, so later calls in the same transaction notify as usual.
CREATE OR REPLACE FUNCTION release_with_grants(p_lease_id uuid, p_listener_pid integer,
                                               OUT released boolean, OUT grants text[])
LANGUAGE plpgsql AS $$
DECLARE
  v_set text; -- (an assignment costs less than PERFORM, which runs a query)
BEGIN
  v_set := set_config('pgslots.answer_grants_of', coalesce(p_listener_pid::text, ''), true);
  v_set := set_config('pgslots.answered_grants', '', true);
  released := _end_lease_by_id(p_lease_id, 'released', false, true);
  grants := string_to_array(nullif(current_setting('pgslots.answered_grants'), ''), ' ');
  v_set := set_config('pgslots.answer_grants_of', '', true);
  v_set := set_config('pgslots.answered_grants', '', true);
END $$;
