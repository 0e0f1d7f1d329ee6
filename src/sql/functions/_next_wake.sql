-- When the first waiter in line should look again: the time every one of its limits could
-- have room — now, when a held lease expires, or when a rate limit's bucket has drained
-- enough for p_occupy. NULL when some limit has no room and nothing will free it.
-- (PL/pgSQL, though it is one expression: it reads tables, so it could not be inlined; see
-- src/sql/README.md.)
CREATE OR REPLACE FUNCTION _next_wake(p_names text[], p_occupy integer) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT CASE WHEN bool_and(t IS NOT NULL) THEN max(t) END FROM (
    SELECT CASE
      WHEN NOT l.active OR (_counts_slots(l) AND l.active_slots + p_occupy <= l.slots)
        THEN clock_timestamp()
      WHEN l.slot_decay_per_second > 0
        THEN greatest(clock_timestamp(), l.decayed_at + make_interval(secs =>
               (l.decaying_slots + p_occupy - l.slots) / l.slot_decay_per_second))
      ELSE _lease_expiry_on(l.name, false)
    END AS t
    FROM limits l WHERE l.name = ANY (p_names)
  ) AS per_limit);
END $$;
