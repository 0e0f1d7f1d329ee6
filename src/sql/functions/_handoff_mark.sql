-- Marks a waiter as the one this transaction hands slots to, unless another transaction
-- already does (true: marked now, or by this transaction before). The mark is a transaction
-- advisory lock on (hashtext('pgslots_handoff_' || schema), ticket's low 31 bits), gone at
-- commit. Releases that hand over in place hold only a key-share lock on the limit row, so
-- several run at once: each passes over the waiters the others have marked instead of
-- waiting for their commits. Two tickets 2^31 apart share a mark: one may be passed over once.
CREATE OR REPLACE FUNCTION _handoff_mark(p_ticket bigint) RETURNS boolean LANGUAGE sql VOLATILE AS $$
  SELECT pg_try_advisory_xact_lock(hashtext('pgslots_handoff_' || current_schema()), (p_ticket & 2147483647)::integer)
$$;
