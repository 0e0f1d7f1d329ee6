-- Ends a lease whose row the caller has deleted while holding the locks of the limits it
-- counts against: frees its slots, writes its one history row, hands the slots on.
CREATE OR REPLACE FUNCTION _end_lease(p_lease leases, p_kind text, p_now timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_held double precision := extract(epoch FROM p_now - p_lease.acquired_at);
BEGIN
  IF cardinality(p_lease.counted) > 0 THEN
    UPDATE limits SET active_slots = active_slots - p_lease.occupy,
      avg_slot_occupancy_seconds = CASE WHEN avg_slot_occupancy_seconds = 0 THEN v_held
                                        ELSE 0.8 * avg_slot_occupancy_seconds + 0.2 * v_held END
    WHERE name = ANY (p_lease.counted);
  END IF;
  INSERT INTO history (kind, names, counted, occupy, fencing_token, ticket, holder, asked_at, granted_at, ended_at)
  VALUES (p_kind, p_lease.names, p_lease.counted, p_lease.occupy, p_lease.fencing_token, p_lease.ticket,
          p_lease.holder, p_lease.asked_at, p_lease.acquired_at, p_now);
  IF cardinality(p_lease.counted) > 0 THEN
    PERFORM _grant_waiters(p_lease.counted);
  END IF;
END $$;
