-- Up Migration
-- Tables of pgslots. Objects are created unqualified: the migration runner sets
-- search_path to the configured schema, so one migration serves any schema name.

CREATE SEQUENCE fencing_token_seq AS bigint;
CREATE SEQUENCE waiter_ticket_seq AS bigint;

CREATE TABLE limits (
  name text PRIMARY KEY
    CHECK (char_length(name) BETWEEN 1 AND 200 AND name !~ '[[:cntrl:]]'),
  slots integer NOT NULL CHECK (slots >= 0),
  active boolean NOT NULL DEFAULT true,
  slot_decay_per_second double precision NOT NULL DEFAULT 0
    CHECK (slot_decay_per_second >= 0 AND slot_decay_per_second < 'Infinity'),
  -- Sum of lease_limits.occupy for this limit, kept in the same transaction.
  active_slots integer NOT NULL DEFAULT 0 CHECK (active_slots >= 0),
  -- Rate limits (slot_decay_per_second > 0): the bucket level at decayed_at; it drains
  -- lazily at slot_decay_per_second, computed from the database clock when read.
  decaying_slots double precision NOT NULL DEFAULT 0 CHECK (decaying_slots >= 0),
  decayed_at timestamptz NOT NULL DEFAULT now(),
  denied_slots bigint NOT NULL DEFAULT 0 CHECK (denied_slots >= 0),
  avg_slot_occupancy_seconds double precision NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE leases (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  fencing_token bigint NOT NULL UNIQUE DEFAULT nextval('fencing_token_seq'),
  names text[] NOT NULL,
  occupy integer NOT NULL CHECK (occupy >= 1),
  holder jsonb NOT NULL,
  ttl interval NOT NULL CHECK (ttl > interval '0'),
  acquired_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX leases_expires_at_idx ON leases (expires_at);

-- One row per (limit, lease) the lease counts against; only active limits at grant time.
CREATE TABLE lease_limits (
  limit_name text NOT NULL REFERENCES limits (name) ON UPDATE CASCADE ON DELETE CASCADE,
  lease_id uuid NOT NULL REFERENCES leases (id) ON DELETE CASCADE,
  occupy integer NOT NULL CHECK (occupy >= 1),
  PRIMARY KEY (limit_name, lease_id)
);
CREATE INDEX lease_limits_lease_id_idx ON lease_limits (lease_id);

CREATE TABLE waiters (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Taken under the limit-row locks, so ticket order is arrival order per limit.
  ticket bigint NOT NULL UNIQUE,
  names text[] NOT NULL,
  occupy integer NOT NULL CHECK (occupy >= 1),
  holder jsonb NOT NULL,
  ttl interval NOT NULL CHECK (ttl > interval '0'),
  heartbeat interval NOT NULL CHECK (heartbeat > interval '0'),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- Set by the transaction that hands slots over; the waiter then claims the lease.
  lease_id uuid UNIQUE REFERENCES leases (id) ON DELETE SET NULL,
  granted_at timestamptz
);
CREATE INDEX waiters_expires_at_idx ON waiters (expires_at);

-- The FIFO queue of each limit: rows exist only while the waiter is not yet granted.
CREATE TABLE waiter_limits (
  limit_name text NOT NULL REFERENCES limits (name) ON UPDATE CASCADE ON DELETE CASCADE,
  ticket bigint NOT NULL,
  waiter_id uuid NOT NULL REFERENCES waiters (id) ON DELETE CASCADE,
  PRIMARY KEY (limit_name, ticket)
);
CREATE INDEX waiter_limits_waiter_id_idx ON waiter_limits (waiter_id);

CREATE TABLE event_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  kind text NOT NULL
    CHECK (kind IN ('acquired', 'released', 'expired', 'revoked', 'denied', 'queued', 'cancelled')),
  names text[] NOT NULL,
  occupy integer NOT NULL,
  fencing_token bigint,
  holder jsonb,
  wait_seconds double precision,
  held_seconds double precision
);
CREATE INDEX event_log_at_idx ON event_log (at);

CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO settings (key, value) VALUES ('event_retention', '7 days');

-- Down Migration
DROP TABLE settings;
DROP TABLE event_log;
DROP TABLE waiter_limits;
DROP TABLE waiters;
DROP TABLE lease_limits;
DROP TABLE leases;
DROP TABLE limits;
DROP SEQUENCE waiter_ticket_seq;
DROP SEQUENCE fencing_token_seq;
