import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Coordinator } from '../../src/index.js'
import { spiedPool } from '../helpers/spied-pool.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// A call commits, but its answer never reaches the client (the connection breaks after the
// commit). The client must end up with exactly what the call took — not take slots a
// second time while what it took sits unheld until its ttl runs out.
describe('a call whose answer is lost', () => {
  const pools: pg.Pool[] = []
  // Registered before the schema, so it runs after the schema's cleanup (vitest runs afterAll
  // hooks in reverse): the coordinators closed there use these pools.
  afterAll(() => Promise.all(pools.map((p) => p.end())))
  const t = useTestSchema()
  let owner: Coordinator
  beforeAll(() => {
    owner = t.coordinator()
  })

  /** A pool whose first call of `fn` runs to its commit, then fails like a cut connection. */
  function losingFirstAnswer(fn: string) {
    const spied = spiedPool(t.url)
    pools.push(spied.pool)
    spied.loseAnswerOfNext(fn)
    return { pool: spied.pool, lost: spied.lost }
  }

  async function eventsOf(holder: string): Promise<string[]> {
    const rows = await t.query<{ kind: string }>(
      `SELECT kind FROM events WHERE holder = $1 AND kind IN ('queued', 'acquired', 'cancelled') ORDER BY at`,
      [JSON.stringify(holder)],
    )
    return rows.map((r) => r.kind)
  }

  async function onlyLease(name: string): Promise<bigint[]> {
    const rows = await t.query<{ fencing_token: string }>('SELECT fencing_token FROM leases WHERE $1 = ANY (names)', [name])
    return rows.map((r) => BigInt(r.fencing_token))
  }

  it('acquire that took free slots: the retry returns that same lease', async () => {
    const { pool, lost } = losingFirstAnswer('acquire')
    await owner.limits.create('free', { slots: 1 })
    const lease = await t.coordinator({ pool }).acquire('free', { holder: 'took free slots' })

    expect(lost()).toBe(1)
    expect(await onlyLease('free')).toEqual([lease.fencingToken])
    expect(await eventsOf('took free slots')).toEqual(['acquired'])
    await lease.release()
    expect(await onlyLease('free')).toEqual([])
  })

  it('acquire that queued: the retry keeps that place in line', async () => {
    const { pool, lost } = losingFirstAnswer('acquire')
    await owner.limits.create('queue', { slots: 1 })
    const held = await owner.acquire('queue')
    const pending = t.coordinator({ pool }).acquire('queue', { holder: 'queued once', timeoutMs: 20_000 })
    await until(async () => lost() === 1 && (await t.query('SELECT 1 FROM waiters')).length === 1, 'the lost answer')
    await held.release()
    const lease = await pending

    expect(await onlyLease('queue')).toEqual([lease.fencingToken])
    expect(await eventsOf('queued once')).toEqual(['queued', 'acquired'])
    expect(await t.query('SELECT 1 FROM waiters')).toEqual([])
    await lease.release()
  })

  it('claim of a granted waiter: the lease it claimed is taken over, not queued for again', async () => {
    const { pool, lost } = losingFirstAnswer('claim')
    await owner.limits.create('claimed', { slots: 1 })
    const held = await owner.acquire('claimed')
    // Polling (no LISTEN): its grant waits in the database to be claimed.
    const pending = t.coordinator({ pool, ttlMs: 60_000, listen: false }).acquire('claimed', { holder: 'claimed once', timeoutMs: 20_000 })
    await until(async () => (await t.query('SELECT 1 FROM waiters')).length === 1, 'the waiter to queue')
    await held.release()
    const lease = await pending

    expect(lost()).toBe(1)
    expect(await onlyLease('claimed')).toEqual([lease.fencingToken])
    expect(await eventsOf('claimed once')).toEqual(['queued', 'acquired'])
    expect(await t.query('SELECT 1 FROM waiters')).toEqual([])
    await lease.release()
  })

  it('twin attempts still in flight: whichever runs second answers with what the first took', async () => {
    await owner.limits.create('twin', { slots: 1 })
    const session = async () => {
      const client = await t.sql.connect()
      await client.query(`SET search_path = "${t.schema}"`)
      return client
    }
    const [gate, first, second] = await Promise.all([session(), session(), session()])
    try {
      const id = randomUUID()
      // Both attempts wait behind the same lock; the one that gets it first takes the free
      // slot, and the other must not queue a waiter next to that lease.
      await gate.query('BEGIN')
      await gate.query(`SELECT 1 FROM limits WHERE name = 'twin' FOR UPDATE`)
      const attempt = (client: pg.PoolClient) =>
        client.query<{ status: string; lease_id: string | null; waiter_id: string | null }>(
          `SELECT status, lease_id, waiter_id FROM acquire('{twin}', 1, '30 seconds', '"twin"', true, false,
                                                           '15 seconds', NULL, $1)`,
          [id],
        )
      const answers = Promise.all([attempt(first), attempt(second)])
      await until(
        async () => (await t.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%acquire(%'`)).length === 2,
        'both attempts to wait for the limit lock',
      )
      await gate.query('COMMIT')
      const rows = (await answers).map((r) => r.rows[0])
      expect(rows).toEqual([
        { status: 'acquired', lease_id: id, waiter_id: null },
        { status: 'acquired', lease_id: id, waiter_id: null },
      ])
      expect(await t.query('SELECT id FROM leases WHERE id = $1', [id])).toHaveLength(1)
      expect(await t.query('SELECT 1 FROM waiters WHERE id = $1', [id])).toEqual([])
      expect((await owner.limits.get('twin')).activeSlots).toBe(1)
    } finally {
      for (const client of [gate, first, second]) client.release()
    }
  })
})
