-- Creates, from their templates, the limits among p_names (sorted) that do not exist and
-- that a template covers: the longest prefix wins, and the new limit takes its slots,
-- decay and active flag. Rows are inserted in name order, the order limit rows are locked
-- in. Concurrent first requests create each limit once: the loser of an insert waits for
-- the winner's commit and then finds its row, so the caller reads its limit rows again
-- after this either way.
CREATE OR REPLACE FUNCTION _instantiate_templates(p_names text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_new record;
  v_limit limits;
BEGIN
  FOR v_new IN
    SELECT n AS name, t.slots, t.active, t.slot_decay_per_second, t.name AS template FROM unnest(p_names) AS n
    CROSS JOIN LATERAL (SELECT * FROM limits t WHERE t.name LIKE '%*' AND starts_with(n, left(t.name, -1))
                        ORDER BY char_length(t.name) DESC LIMIT 1) AS t
    WHERE NOT EXISTS (SELECT 1 FROM limits WHERE name = n)
    ORDER BY n
  LOOP
    INSERT INTO limits (name, slots, active, slot_decay_per_second, template)
    VALUES (v_new.name, v_new.slots, v_new.active, v_new.slot_decay_per_second, v_new.template)
    ON CONFLICT (name) DO NOTHING
    RETURNING * INTO v_limit;
    IF FOUND THEN
      PERFORM _record_limit_change(v_limit, 'limit_changed');
    END IF;
  END LOOP;
END $$;
