-- Ends one lease: locks the limits it counts against (waiting for them, or with p_nowait
-- skipping the lease when one is busy), then deletes it. A lease whose time is up when it
-- is released counts as expired. False when it was not ended (gone, or skipped).
CREATE OR REPLACE FUNCTION _end_lease_by_id(p_lease_id uuid, p_kind text, p_nowait boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_counted text[];
  v_lease leases;
  v_now timestamptz;
BEGIN
  -- counted only ever shrinks (a deleted limit), so these locks cover the row read below.
  SELECT counted INTO v_counted FROM leases WHERE id = p_lease_id;
  IF NOT FOUND THEN RETURN false; END IF;
  IF p_nowait THEN
    IF NOT _try_lock_limits(v_counted) THEN RETURN false; END IF;
    DELETE FROM leases WHERE id = (SELECT id FROM leases WHERE id = p_lease_id FOR UPDATE SKIP LOCKED)
    RETURNING * INTO v_lease;
  ELSE
    PERFORM 1 FROM limits WHERE name = ANY (v_counted) ORDER BY name FOR UPDATE;
    DELETE FROM leases WHERE id = p_lease_id RETURNING * INTO v_lease;
  END IF;
  IF NOT FOUND THEN RETURN false; END IF;
  v_now := clock_timestamp();
  IF p_kind = 'released' AND v_lease.expires_at <= v_now THEN
    p_kind := 'expired';
  END IF;
  PERFORM _end_lease(v_lease, p_kind, v_now);
  RETURN true;
END $$;
