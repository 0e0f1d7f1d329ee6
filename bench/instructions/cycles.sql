-- Procedures that count what a call costs the database: public.cycles_<schema>(n) runs n
-- uncontended cycles on limit `instr-free` (100 slots): acquire, COMMIT, release, COMMIT.
-- public.handoffs_<schema>(n) runs n contended ones on limit `instr-hot` (1 slot): a request
-- queues behind the holder (polling, so no NOTIFY), then the holder's release hands it the
-- slot in place, and it becomes the holder. Both call the functions the library calls.
CREATE OR REPLACE FUNCTION public.make_instruction_cycles(s text) RETURNS void LANGUAGE plpgsql AS $make$
BEGIN
  EXECUTE format($p$
CREATE OR REPLACE PROCEDURE public.cycles_%1$s(n integer) LANGUAGE plpgsql AS $b$
DECLARE r %1$I.acquire_result; g record;
BEGIN
  FOR i IN 1..n LOOP
    r := %1$I.acquire(ARRAY['instr-free'], 1, '1 minute', '{"pid":1}', true, false, '15 seconds', NULL, gen_random_uuid(), 0);
    COMMIT;
    g := %1$I.release_with_grants(r.lease_id, NULL);
    COMMIT;
  END LOOP;
END $b$$p$, s);
  EXECUTE format($p$
CREATE OR REPLACE PROCEDURE public.handoffs_%1$s(n integer) LANGUAGE plpgsql AS $b$
DECLARE r %1$I.acquire_result; g record; held uuid;
BEGIN
  r := %1$I.acquire(ARRAY['instr-hot'], 1, '1 hour', '{"pid":1}', true, false, '1 hour', NULL, gen_random_uuid(), 0);
  held := r.lease_id;
  COMMIT;
  FOR i IN 1..n LOOP
    r := %1$I.acquire(ARRAY['instr-hot'], 1, '1 hour', '{"pid":1}', true, false, '1 hour', NULL, gen_random_uuid(), 0);
    IF r.status <> 'waiting' THEN RAISE EXCEPTION 'the request did not queue: %%', r.status; END IF;
    COMMIT;
    g := %1$I.release_with_grants(held, NULL);
    held := r.waiter_id;
    COMMIT;
  END LOOP;
  g := %1$I.release_with_grants(held, NULL);
  COMMIT;
END $b$$p$, s);
END $make$;
