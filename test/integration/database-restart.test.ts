import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/demo/embedded-postgres.js'
import { Coordinator } from '../../src/index.js'
import { checkInvariants, violations } from '../helpers/invariants.js'

/** Retries an operation while the database is down (connection errors), up to 30 s. */
async function retry<T>(op: () => Promise<T>): Promise<T> {
  const end = Date.now() + 30_000
  for (;;) {
    try {
      return await op()
    } catch (error) {
      if (Date.now() > end || (error as { code?: string }).code?.startsWith('PGSLOTS')) throw error
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

describe('database restart under load', () => {
  let db: EmbeddedDatabase
  let slots: Coordinator
  beforeAll(async () => {
    db = await startEmbeddedPostgres() // a server of its own: this test stops it
    slots = new Coordinator({ connectionString: db.url, schema: 'restart', reaper: true, reaperIntervalMs: 500, onWarning: () => {} })
    await slots.migrate()
  }, 60_000)
  afterAll(async () => {
    await slots?.close()
    await db?.stop()
  })

  it('keeps held leases, reconnects, completes waiters, never double-grants or leaks', async () => {
    await slots.limits.create('busy', { slots: 2 })
    await slots.limits.create('long', { slots: 1 })
    const longLease = await slots.acquire('long', { ttlMs: 20_000 })
    let stop = false
    let completed = 0
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const lease = await retry(() => slots.acquire('busy', { ttlMs: 5000, timeoutMs: 30_000 }))
        await new Promise((r) => setTimeout(r, 10))
        await retry(() => lease.release())
        completed++
      }
    })
    await new Promise((r) => setTimeout(r, 1000))
    const beforeRestart = completed
    await db.restart(1000)
    const afterRestart = completed
    await new Promise((r) => setTimeout(r, 3000))
    stop = true
    await Promise.all(loops)
    expect(beforeRestart).toBeGreaterThan(0)
    expect(completed).toBeGreaterThan(afterRestart) // work resumed after the restart

    // The lease held across the restart is still valid and renewable.
    expect(longLease.signal.aborted).toBe(false)
    await expect(longLease.renew()).resolves.toBeInstanceOf(Date)
    await longLease.release()

    const c = await slots.limits.get('busy')
    expect(c.activeSlots).toBe(0)
    const pool = new (await import('pg')).default.Pool({ connectionString: db.url })
    try {
      const query = async (text: string) => (await pool.query(`SET search_path = restart; ${text}`).then((r) => (Array.isArray(r) ? r[1] : r))).rows
      expect(await query('SELECT * FROM waiters')).toEqual([])
      const report = await checkInvariants(query, { busy: 2, long: 1 })
      expect(report.acquisitions).toBeGreaterThanOrEqual(completed)
      expect(violations(report)).toEqual([])
    } finally {
      await pool.end()
    }
  }, 90_000)
})
