import type pg from 'pg'

/** The pg_cron job name of a schema's reaper. */
export function cronJobName(schema: string): string {
  return `pgslots-reap-${schema}`
}

/**
 * Schedules `reap()` with pg_cron (`schedule` in cron syntax; pg_cron ≥ 1.5 also takes
 * e.g. '5 seconds'). Scheduling again replaces the job. pg_cron must be in
 * `shared_preload_libraries`, and this must run in the database named by `cron.database_name`.
 * @internal use `coordinator.installCron()`
 */
export async function installCron(pool: pg.Pool, schema: string, schedule: string): Promise<number> {
  const available = await pool.query(
    "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron') AS available",
  )
  if (!available.rows[0]?.available) {
    throw new Error('the pg_cron extension is not installed on this server; use the in-process reaper')
  }
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_cron')
  } catch (error) {
    throw new Error(
      `cannot enable pg_cron here (${(error as Error).message}); add it to shared_preload_libraries and run this in cron.database_name`,
      { cause: error },
    )
  }
  const result = await pool.query<{ jobid: string }>(
    'SELECT cron.schedule_in_database($1, $2, $3, current_database()) AS jobid',
    [cronJobName(schema), schedule, `SELECT * FROM "${schema}".reap()`],
  )
  return Number(result.rows[0]?.jobid)
}

/** Removes the pg_cron job of this schema; false when there was none. @internal */
export async function uninstallCron(pool: pg.Pool, schema: string): Promise<boolean> {
  const installed = await pool.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'")
  if (installed.rowCount === 0) return false
  const result = await pool.query<{ removed: boolean }>(
    'SELECT cron.unschedule(jobid) AS removed FROM cron.job WHERE jobname = $1',
    [cronJobName(schema)],
  )
  return result.rows.some((r) => r.removed)
}
