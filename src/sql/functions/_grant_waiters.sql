-- Hands free slots of the given (locked) limits to their queues' heads, in the same
-- transaction: in line order (priority, then FIFO), stopping at the first head that does not fit (no barging, no
-- starvation of large requests). One index probe finds each head; after a grant that
-- leaves a concurrency limit full, nobody else can fit and the queue is not probed again.
CREATE OR REPLACE FUNCTION _grant_waiters(p_names text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_queues text[] := p_names;
  v_i integer := 1;
  v_head waiters;
  v_outcome text;
  v_granted boolean := false;
BEGIN
  WHILE v_i <= cardinality(v_queues) LOOP
    LOOP
      SELECT * INTO v_head FROM waiters WHERE queue = v_queues[v_i] ORDER BY priority DESC, ticket LIMIT 1;
      EXIT WHEN NOT FOUND;
      v_outcome := _try_grant(v_head);
      IF v_outcome = 'blocked' THEN
        -- A rate limit's budget frees with time, not with a release: the new head learns
        -- from its claim() when to look again.
        IF v_granted AND v_head.listener_pid IS NOT NULL
           AND EXISTS (SELECT 1 FROM limits WHERE name = v_queues[v_i] AND slot_decay_per_second > 0) THEN
          PERFORM pg_notify(_listener_channel(v_head.listener_pid), v_head.ticket::text);
        END IF;
        EXIT;
      END IF;
      v_granted := v_granted OR v_outcome <> 'removed';
      IF cardinality(v_head.queues) > 1 THEN
        -- Its other queues have a new head now.
        v_queues := v_queues || ARRAY(SELECT q FROM unnest(v_head.queues) AS q WHERE q <> ALL (v_queues));
      END IF;
      EXIT WHEN v_outcome = 'full';
    END LOOP;
    v_i := v_i + 1;
  END LOOP;
END $$;
