-- The next fencing token. Tokens must never repeat, even after a failover to an asynchronous
-- standby that never received the last tokens handed out (its sequence restarts behind them).
-- Every promotion starts a new WAL timeline, so the timeline is the high part of the token:
-- anything handed out on timeline n + 1 is above everything from timeline n (2^44 tokens per
-- timeline). On the first timeline tokens are plain sequence numbers.
-- LANGUAGE sql with a single expression, so it is inlined into the INSERT that calls it.
CREATE OR REPLACE FUNCTION _next_fencing_token() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT nextval('fencing_token_seq')
    + ((('x' || substr(pg_walfile_name(pg_current_wal_insert_lsn()), 1, 8))::bit(32)::int - 1)::bigint << 44)
$$;
