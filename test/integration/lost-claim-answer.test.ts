import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestSchema, type TestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// The claim of a granted waiter commits, but its answer never reaches the client (the
// connection breaks after the commit). The client must still end up with that lease — not
// queue again while the lease it claimed sits unheld until its ttl runs out.
describe('a claim whose answer is lost', () => {
  let t: TestSchema
  let pool: pg.Pool
  beforeAll(async () => {
    t = await createTestSchema()
    pool = new pg.Pool({ connectionString: t.url, max: 4 })
  })
  afterAll(async () => {
    await t.cleanup()
    await pool.end()
  })

  it('still gives the client the lease it claimed', async () => {
    // The fault: the first claim runs to its commit, then its connection breaks.
    let lostAnswers = 0
    const query = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>
    pool.query = (async (text: string, values?: unknown[]) => {
      const result = await query(text, values)
      if (lostAnswers === 0 && text.includes('.claim(')) {
        lostAnswers++
        throw new Error('Connection terminated unexpectedly')
      }
      return result
    }) as typeof pool.query

    const owner = t.coordinator()
    // Polling (no LISTEN): its grant waits in the database to be claimed.
    const waiter = t.coordinator({ pool, ttlMs: 60_000, listen: false })
    await owner.limits.create('solo', { slots: 1 })
    const held = await owner.acquire('solo')
    const pending = waiter.acquire('solo', { holder: 'waiter', timeoutMs: 20_000 })
    await until(async () => (await t.query('SELECT 1 FROM waiters')).length === 1, 'the waiter to queue')
    await held.release()
    const lease = await pending

    expect(lostAnswers).toBe(1)
    const leases = await t.query<{ fencing_token: string }>('SELECT fencing_token FROM leases')
    expect(leases.map((l) => BigInt(l.fencing_token))).toEqual([lease.fencingToken])
    expect(await t.query('SELECT 1 FROM waiters')).toEqual([])
    const kinds = await t.query<{ kind: string }>(
      `SELECT kind FROM events WHERE holder = '"waiter"' AND kind IN ('queued', 'acquired') ORDER BY id`,
    )
    expect(kinds.map((k) => k.kind)).toEqual(['queued', 'acquired'])
    await lease.release()
    expect(await t.query('SELECT 1 FROM leases')).toEqual([])
  })
})
