-- When a waiting request should call claim() again: the first live waiter in line when its
-- limits could have room (_next_wake), every other waiter at the next lease expiry in case
-- the ones ahead of it died meanwhile (_next_look). NULL: only a release can help.
CREATE OR REPLACE FUNCTION _when_to_look(p_queues text[], p_names text[], p_occupy integer,
                                         p_priority integer, p_ticket bigint) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF _first_live_in_line(p_queues, p_priority, p_ticket) THEN
    RETURN _next_wake(p_names, p_occupy);
  END IF;
  RETURN _next_look(p_queues);
END $$;
