-- Per minute and limit: acquisitions, wait percentiles, expirations, denials, revocations.
CREATE OR REPLACE VIEW stats_per_minute AS
SELECT date_trunc('minute', e.at) AS minute,
  n AS limit_name,
  count(*) FILTER (WHERE e.kind = 'acquired') AS acquisitions,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY e.wait_seconds) FILTER (WHERE e.kind = 'acquired') AS wait_p50_seconds,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY e.wait_seconds) FILTER (WHERE e.kind = 'acquired') AS wait_p95_seconds,
  count(*) FILTER (WHERE e.kind = 'expired') AS expirations,
  count(*) FILTER (WHERE e.kind = 'denied') AS denials,
  count(*) FILTER (WHERE e.kind = 'revoked') AS revocations,
  avg(e.held_seconds) FILTER (WHERE e.kind IN ('released', 'expired', 'revoked')) AS avg_held_seconds
FROM events e CROSS JOIN LATERAL unnest(e.names) AS n
GROUP BY 1, 2;
