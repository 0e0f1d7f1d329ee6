-- One row per finished lease or wait: when it was asked for, granted and ended, how it
-- ended, and the wait and held seconds.
CREATE OR REPLACE VIEW lease_history AS
SELECT id, kind AS ended_how, names, counted, occupy, fencing_token, ticket, holder,
  asked_at, granted_at, ended_at,
  extract(epoch FROM coalesce(granted_at, ended_at) - asked_at)::double precision AS wait_seconds,
  extract(epoch FROM ended_at - granted_at)::double precision AS held_seconds
FROM history
WHERE kind IN ('released', 'expired', 'revoked', 'cancelled', 'denied');
