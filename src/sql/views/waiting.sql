-- One row per waiting request (a request waiting on two limits has a row in each queue;
-- this shows its first), with its place in line: priority, then ticket. Never the waiter
-- id (the capability to cancel it).
CREATE OR REPLACE VIEW waiting AS
SELECT ticket, names, queues, occupy, holder, asked_at AS created_at,
  clock_timestamp() - asked_at AS wait_age, priority
FROM waiters
WHERE queue = queues[1];
