-- The role Grafana's data source logs in as (grafana/provisioning/datasources/pgslots.yml):
-- a reader, which may SELECT the dashboard views and nothing else, never the owner.
-- Run once by the postgres image on a fresh volume; it becomes a reader with
--   pgslots migrate && pgslots grant --reader grafana
CREATE ROLE grafana LOGIN PASSWORD 'grafana';
