-- Up Migration
-- The tables of pgslots, their indexes and data. Functions and views are not here: each
-- lives in one file under src/sql/functions/ or src/sql/views/ in its current form, and
-- migrate() installs them after the migrations (src/sql/README.md). Objects are created
-- unqualified: the runner sets search_path to the configured schema.
--
-- The shapes serve the locked section (the time a limit row is locked, which every waiter
-- of that limit pays for): a lease row says which limits it counts against, and a waiter
-- row is one place in one limit's queue, so a release or a grant is a handful of
-- single-row statements with no foreign-key triggers behind them.

-- Value rules are domains rather than table CHECK constraints: a table's CHECK expressions
-- are read back from their stored form on every statement that writes the table, and
-- all of them are evaluated on every UPDATE (the limit row is updated all the time); a
-- domain's are cached and run only for the columns a statement assigns.
CREATE DOMAIN limit_name AS text CHECK (char_length(VALUE) BETWEEN 1 AND 200 AND VALUE !~ '[[:cntrl:]]');
CREATE DOMAIN slot_count AS integer CHECK (VALUE >= 0);
CREATE DOMAIN occupy_count AS integer CHECK (VALUE >= 1);
CREATE DOMAIN positive_interval AS interval CHECK (VALUE > interval '0');
CREATE DOMAIN non_negative_float AS double precision CHECK (VALUE >= 0 AND VALUE < 'Infinity');
CREATE DOMAIN history_kind AS text CHECK (VALUE IN ('released', 'expired', 'revoked', 'cancelled', 'denied',
                                                    'limit_changed', 'limit_deleted'));

CREATE SEQUENCE fencing_token_seq AS bigint;
CREATE SEQUENCE waiter_ticket_seq AS bigint;

CREATE TABLE limits (
  name limit_name PRIMARY KEY,
  slots slot_count NOT NULL,
  active boolean NOT NULL DEFAULT true,
  slot_decay_per_second non_negative_float NOT NULL DEFAULT 0,
  -- Sum of occupy over the live leases that count against this limit, kept in the same
  -- transaction as the lease rows.
  active_slots slot_count NOT NULL DEFAULT 0,
  -- Rate limits (slot_decay_per_second > 0): the bucket level at decayed_at; it drains
  -- lazily at slot_decay_per_second, computed from the database clock when read.
  decaying_slots non_negative_float NOT NULL DEFAULT 0,
  decayed_at timestamptz NOT NULL DEFAULT now(),
  -- Slots of requests that could not be granted at once (refused or queued).
  denied_slots bigint NOT NULL DEFAULT 0,
  -- Moving average of how long slots are held (of the slots handed over in place under
  -- contention, every fourth).
  avg_slot_occupancy_seconds double precision NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- A limit whose name ends in '*' (gpu:*) is a template: it holds no slots itself, and a
  -- request for a missing name it covers (the longest prefix wins) creates that limit from
  -- it in the same transaction. This is the template a limit was created from.
  template text
);
-- The templates alone, for the longest-prefix lookup (a handful of rows among any number of limits).
CREATE INDEX limits_templates_idx ON limits (name) WHERE name LIKE '%*';

CREATE TABLE leases (
  id uuid PRIMARY KEY,
  -- No default: every token comes from _next_fencing_token(), which puts the WAL timeline in
  -- the high bits so that no token repeats after a failover to a standby whose sequence is
  -- behind; a DEFAULT nextval() would hand out tokens that bypass it.
  fencing_token bigint NOT NULL,
  -- The requested limits that existed when it was taken: what its holder asked for (a limit
  -- deleted since stays here).
  names text[] NOT NULL,
  -- Those of names it holds slots on and counts against: the active concurrency limits at
  -- grant time (a rate limit's budget drains by itself and is not held), less any deleted
  -- since, so it only ever shrinks.
  counted text[] NOT NULL,
  occupy occupy_count NOT NULL,
  holder jsonb NOT NULL,
  ttl positive_interval NOT NULL,
  asked_at timestamptz NOT NULL,
  acquired_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- The waiter ticket it was granted to; NULL when taken without waiting.
  ticket bigint,
  -- Where the WAL stood at the grant: taken under the limit-row locks, so for each limit it
  -- orders grants and ends exactly, whatever the wall clock does (the invariant checker).
  granted_lsn pg_lsn NOT NULL DEFAULT pg_current_wal_insert_lsn()
);
CREATE UNIQUE INDEX leases_fencing_token_idx ON leases (fencing_token);
CREATE INDEX leases_expires_at_idx ON leases (expires_at);
-- The earliest expiry among the leases of one limit (when the first waiter in line should
-- look again): by the first limit a lease counts against, and, for the few leases that
-- count against several, in expiry order. (A GIN index on counted answered the same, but
-- its dead entries from lease churn made the probe cost more than the rest of the call.)
CREATE INDEX leases_first_counted_idx ON leases ((counted[1]), expires_at);
CREATE INDEX leases_multi_counted_idx ON leases (expires_at) WHERE cardinality(counted) > 1;

-- One row per place in a limit's queue: a request waiting on two limits has two rows with
-- the same id and ticket. Granted or cancelled, its rows are deleted.
CREATE TABLE waiters (
  queue text NOT NULL,
  -- Taken under the limit-row locks, so ticket order is arrival order in every queue.
  ticket bigint NOT NULL,
  id uuid NOT NULL,
  -- Every queue the request stands in (its active limits at queue time, in name order),
  -- and every limit it asked for that existed (a deleted limit leaves both).
  queues text[] NOT NULL,
  names text[] NOT NULL,
  occupy occupy_count NOT NULL,
  holder jsonb NOT NULL,
  ttl positive_interval NOT NULL,
  heartbeat positive_interval NOT NULL,
  asked_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- Backend pid of the waiter's LISTEN connection; NULL for polling waiters.
  listener_pid integer,
  -- On each limit, waiters of higher priority are served first, FIFO (ticket order) among
  -- equal priorities.
  priority integer NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, ticket)
);
-- A request id is unique per queue: a twin attempt of the same request cannot queue twice.
CREATE UNIQUE INDEX waiters_id_idx ON waiters (id, queue);
CREATE INDEX waiters_expires_at_idx ON waiters (expires_at);
-- Line order: the head of a queue is the first entry.
CREATE INDEX waiters_line_idx ON waiters (queue, priority DESC, ticket);

-- One row per finished lease, per wait that ended without a grant, per denied request and
-- per limit change: written once, when it ends.
CREATE TABLE history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind history_kind NOT NULL,
  names text[] NOT NULL,
  -- The concurrency limits a lease held slots on.
  counted text[],
  occupy integer NOT NULL,
  fencing_token bigint,
  ticket bigint,
  holder jsonb,
  asked_at timestamptz,
  granted_at timestamptz,
  ended_at timestamptz NOT NULL,
  -- Limit changes: the limit's slots, active flag and decay after the change.
  slots integer,
  active boolean,
  slot_decay_per_second double precision,
  -- As leases.granted_lsn, for the grant and for the end.
  granted_lsn pg_lsn,
  ended_lsn pg_lsn NOT NULL DEFAULT pg_current_wal_insert_lsn()
);
CREATE INDEX history_ended_at_idx ON history (ended_at);

CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO settings (key, value) VALUES ('history_retention', '7 days');

CREATE TYPE acquire_result AS (
  status text,              -- acquired | waiting | busy | gone
  lease_id uuid,
  fencing_token bigint,
  expires_at timestamptz,
  waiter_id uuid,
  ticket bigint,
  names text[],             -- the requested limits that exist (the lease's or waiter's names)
  missing text[],           -- requested names with no such limit (skipped)
  next_expiry timestamptz,  -- when a waiting request should call claim() again
  db_now timestamptz,
  -- The limits this request created from templates, and the template of each (same order):
  -- a misspelt name that a template covers (gpu:nope under gpu:*) becomes a permanent
  -- limit, and the caller should hear of it.
  created text[],
  created_from text[]
);

-- Down Migration
-- The views and functions migrate() installs over these tables use their row types and
-- acquire_result: they go first.
DO $$
DECLARE
  v_object text;
BEGIN
  FOREACH v_object IN ARRAY ARRAY(
    SELECT format('VIEW IF EXISTS %I', relname) FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'v'
    UNION ALL
    SELECT format('FUNCTION %s', oid::regprocedure) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace)
  LOOP
    EXECUTE 'DROP ' || v_object || ' CASCADE';
  END LOOP;
END $$;
DROP TYPE acquire_result;
DROP TABLE settings;
DROP TABLE history;
DROP TABLE waiters;
DROP TABLE leases;
DROP TABLE limits;
DROP SEQUENCE waiter_ticket_seq;
DROP SEQUENCE fencing_token_seq;
DROP DOMAIN history_kind;
DROP DOMAIN non_negative_float;
DROP DOMAIN positive_interval;
DROP DOMAIN occupy_count;
DROP DOMAIN slot_count;
DROP DOMAIN limit_name;
