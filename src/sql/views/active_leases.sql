-- The live leases: who holds how much of which limits, for how long yet. Never the lease
-- id (the capability to release it); the fencing token is public.
CREATE OR REPLACE VIEW active_leases AS
SELECT fencing_token, names, counted, occupy, holder, asked_at, acquired_at, expires_at,
  clock_timestamp() - acquired_at AS age,
  expires_at - clock_timestamp() AS expires_in
FROM leases
WHERE expires_at > clock_timestamp();
