-- Up Migration
-- Priorities: on each limit, waiters of higher priority are served first, and FIFO (ticket
-- order) among equal priorities. The head of a queue is still the first entry of one index.
ALTER TABLE waiters ADD COLUMN priority integer NOT NULL DEFAULT 0;
CREATE INDEX waiters_line_idx ON waiters (queue, priority DESC, ticket);

-- The waiting view shows each waiter's priority (a new last column).
CREATE OR REPLACE VIEW waiting AS
SELECT ticket, names, queues, occupy, holder, asked_at AS created_at,
  clock_timestamp() - asked_at AS wait_age, priority
FROM waiters
WHERE queue = queues[1];

-- Down Migration
CREATE OR REPLACE VIEW waiting AS
SELECT ticket, names, queues, occupy, holder, asked_at AS created_at,
  clock_timestamp() - asked_at AS wait_age
FROM waiters
WHERE queue = queues[1];
DROP INDEX waiters_line_idx;
ALTER TABLE waiters DROP COLUMN priority;
