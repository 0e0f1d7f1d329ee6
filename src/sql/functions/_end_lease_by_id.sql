-- Ends one lease: locks the limits it counts against (waiting for them, or with p_nowait
-- skipping the lease when one is busy), deletes it and writes its history row in one
-- statement, then frees its slots and hands them on. A lease whose time is up when it is
-- released counts as expired. False when it was not ended (gone, or skipped).
CREATE OR REPLACE FUNCTION _end_lease_by_id(p_lease_id uuid, p_kind text, p_nowait boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_limits limits[];
  v_counted text[];
  v_ended history;
  v_now timestamptz;
BEGIN
  -- counted only ever shrinks (a deleted limit), so these locks cover the row deleted below.
  IF p_nowait THEN
    SELECT counted INTO v_counted FROM leases WHERE id = p_lease_id;
    IF NOT FOUND OR NOT _try_lock_limits(v_counted) THEN RETURN false; END IF;
    PERFORM 1 FROM leases WHERE id = p_lease_id FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN RETURN false; END IF;
    v_limits := ARRAY(SELECT l FROM limits l WHERE l.name = ANY (v_counted) ORDER BY l.name);
  ELSE
    v_limits := ARRAY(SELECT l FROM limits l WHERE l.name = ANY ((SELECT counted FROM leases WHERE id = p_lease_id)::text[])
                      ORDER BY l.name FOR UPDATE);
  END IF;
  v_now := clock_timestamp();
  WITH gone AS (DELETE FROM leases WHERE id = p_lease_id RETURNING *)
  INSERT INTO history (kind, names, counted, occupy, fencing_token, ticket, holder, asked_at, granted_at, ended_at,
                       granted_lsn)
  SELECT CASE WHEN p_kind = 'released' AND expires_at <= v_now THEN 'expired' ELSE p_kind END,
    names, counted, occupy, fencing_token, ticket, holder, asked_at, acquired_at, v_now, granted_lsn
  FROM gone
  RETURNING * INTO v_ended;
  IF NOT FOUND THEN RETURN false; END IF;
  IF cardinality(v_ended.counted) > 0 THEN
    PERFORM _hand_on(v_ended, v_limits, v_now);
  END IF;
  RETURN true;
END $$;
