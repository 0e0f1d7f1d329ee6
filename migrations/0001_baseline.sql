-- Up Migration
-- The tables of pgslots. Functions are not here: each lives in one file under
-- src/sql/functions/ in its current form, and migrate() installs them after the migrations.
-- Objects are created unqualified: the runner sets search_path to the configured schema.
--
-- The shapes serve the locked section (the time a limit row is locked, which every waiter
-- of that limit pays for): a lease row says which limits it counts against, and a waiter
-- row is one place in one limit's queue, so a release or a grant is a handful of
-- single-row statements with no foreign-key triggers behind them.

CREATE SEQUENCE fencing_token_seq AS bigint;
CREATE SEQUENCE waiter_ticket_seq AS bigint;

CREATE TABLE limits (
  name text PRIMARY KEY
    CHECK (char_length(name) BETWEEN 1 AND 200 AND name !~ '[[:cntrl:]]'),
  slots integer NOT NULL CHECK (slots >= 0),
  active boolean NOT NULL DEFAULT true,
  slot_decay_per_second double precision NOT NULL DEFAULT 0
    CHECK (slot_decay_per_second >= 0 AND slot_decay_per_second < 'Infinity'),
  -- Sum of occupy over the live leases that count against this limit, kept in the same
  -- transaction as the lease rows.
  active_slots integer NOT NULL DEFAULT 0 CHECK (active_slots >= 0),
  -- Rate limits (slot_decay_per_second > 0): the bucket level at decayed_at; it drains
  -- lazily at slot_decay_per_second, computed from the database clock when read.
  decaying_slots double precision NOT NULL DEFAULT 0 CHECK (decaying_slots >= 0),
  decayed_at timestamptz NOT NULL DEFAULT now(),
  -- Slots of requests that could not be granted at once, counted when they were refused,
  -- or for a queued request when it leaves the queue (waiters.denied says where); the
  -- views and limits.get() add the queued ones, so the queueing path does not write here.
  denied_slots bigint NOT NULL DEFAULT 0 CHECK (denied_slots >= 0),
  avg_slot_occupancy_seconds double precision NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE leases (
  id uuid PRIMARY KEY,
  fencing_token bigint NOT NULL DEFAULT nextval('fencing_token_seq'),
  -- The requested limits that existed at grant time.
  names text[] NOT NULL,
  -- The concurrency limits it holds slots on (active at grant time, slot_decay_per_second 0).
  counted text[] NOT NULL,
  occupy integer NOT NULL CHECK (occupy >= 1),
  holder jsonb NOT NULL,
  ttl interval NOT NULL CHECK (ttl > interval '0'),
  asked_at timestamptz NOT NULL,
  acquired_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- The waiter ticket it was granted to; NULL when taken without waiting.
  ticket bigint
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
  -- and every limit it asked for that existed.
  queues text[] NOT NULL,
  names text[] NOT NULL,
  occupy integer NOT NULL CHECK (occupy >= 1),
  holder jsonb NOT NULL,
  ttl interval NOT NULL CHECK (ttl > interval '0'),
  heartbeat interval NOT NULL CHECK (heartbeat > interval '0'),
  asked_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- Backend pid of the waiter's LISTEN connection; NULL for polling waiters.
  listener_pid integer,
  -- The queues it was blocked on when it asked (no room, or others waiting): its slots
  -- count as denied there.
  denied text[] NOT NULL,
  PRIMARY KEY (queue, ticket)
);
-- A request id is unique per queue: a twin attempt of the same request cannot queue twice.
CREATE UNIQUE INDEX waiters_id_idx ON waiters (id, queue);
CREATE INDEX waiters_expires_at_idx ON waiters (expires_at);

-- One row per finished lease, per wait that ended without a grant, per denied request and
-- per limit change: written once, when it ends.
CREATE TABLE history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('released', 'expired', 'revoked', 'cancelled', 'denied',
                                     'limit_changed', 'limit_deleted')),
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
  slot_decay_per_second double precision
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
  names text[],             -- the limits the lease or waiter counts against
  missing text[],           -- requested names with no such limit (skipped)
  next_expiry timestamptz,  -- when the first waiter in line should look again
  db_now timestamptz
);

-- Down Migration
DROP TYPE acquire_result;
DROP TABLE settings;
DROP TABLE history;
DROP TABLE waiters;
DROP TABLE leases;
DROP TABLE limits;
DROP SEQUENCE waiter_ticket_seq;
DROP SEQUENCE fencing_token_seq;
