import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordinator } from '../../src/index.js'
import { type CronCluster, hasPgCron, startCronCluster } from '../helpers/debian-postgres.js'

if (!hasPgCron) console.warn('pg_cron test skipped: Debian postgresql-15 + postgresql-15-cron are absent (.ci/run installs them)')

describe.skipIf(!hasPgCron)('reaper scheduled by pg_cron', () => {
  let cluster: CronCluster
  let slots: Coordinator
  beforeAll(async () => {
    cluster = await startCronCluster()
    slots = new Coordinator({ connectionString: cluster.url, schema: 'cron_reaped', reaper: false, onWarning: () => {} })
    await slots.migrate()
  })
  afterAll(async () => {
    await slots?.close()
    await cluster?.stop()
  })

  it('installs a job that reaps expired leases with no coordinator running, and removes it', async () => {
    await slots.limits.create('cron', { slots: 1 })
    const sql = new pg.Client({ connectionString: cluster.url })
    await sql.connect()
    try {
      // A crashed holder: a lease nobody will renew, expiring in one second.
      await sql.query(`SELECT * FROM cron_reaped.acquire(ARRAY['cron'], 1, '1 second', '"crashed"')`)
      const jobId = await slots.installCron('* * * * *')
      expect(jobId).toBeGreaterThan(0)
      expect(await slots.installCron('* * * * *')).toBe(jobId) // scheduling again replaces it
      const deadline = Date.now() + 75_000 // pg_cron 1.4 runs jobs on minute boundaries
      let reaped = 0
      while (Date.now() < deadline && reaped === 0) {
        await new Promise((r) => setTimeout(r, 1000))
        const events = await sql.query("SELECT count(*)::int AS n FROM cron_reaped.events WHERE kind = 'expired'")
        reaped = events.rows[0].n
      }
      expect(reaped).toBe(1)
      const runs = await sql.query("SELECT status FROM cron.job_run_details WHERE jobid = $1 AND status = 'succeeded'", [
        jobId,
      ])
      expect(runs.rowCount).toBeGreaterThan(0)
      expect((await slots.limits.get('cron')).activeSlots).toBe(0)
      expect(await slots.uninstallCron()).toBe(true)
      expect(await slots.uninstallCron()).toBe(false)
    } finally {
      await sql.end()
    }
  }, 120_000)
})
