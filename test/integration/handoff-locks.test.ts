import type pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// A release hands its slots on in the same transaction, under the lock of its limit row.
// Each race around it is forced here with open transactions on separate connections, in
// both orders where the order matters: a queueing request not committed yet, slots lowered
// meanwhile, a head whose row is busy, a dead head, a head that does not fit.
describe('handing slots on, beside concurrent transactions', () => {
  const t = useTestSchema({ perTest: true })
  let sessions: pg.PoolClient[] = []
  afterEach(async () => {
    for (const s of sessions) {
      await s.query('ROLLBACK').catch(() => {})
      s.release()
    }
    sessions = []
  })

  async function session(): Promise<pg.PoolClient> {
    const client = await t.sql.connect()
    sessions.push(client)
    await client.query(`SET search_path = "${t.schema}"`)
    return client
  }

  const acquire = async (occupy = 1, wait = true) =>
    (await t.query<{ status: string; lease_id: string | null; waiter_id: string | null }>(
      `SELECT status, lease_id, waiter_id FROM acquire('{gpu}', $1, '1 minute', '{}', $2)`, [occupy, wait],
    ))[0]!
  const granted = async (id: string) => (await t.count(`leases WHERE id = '${id}'`)) === 1
  const waiting = async () => (await t.query<{ id: string }>('SELECT id FROM waiters ORDER BY ticket')).map((w) => w.id)
  const activeSlots = async () => (await t.query<{ n: number }>("SELECT active_slots AS n FROM limits WHERE name = 'gpu'"))[0]!.n
  /** Until a statement matching `like` waits for a lock held by another transaction. */
  const waitsForLock = (like: string) =>
    until(
      async () => (await t.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [like])).length === 1,
      `${like} to wait for a lock`,
    )

  /** A full limit of `slots`, its leases, and `waiters` queued behind them (committed). */
  async function fullLimit(slots: number, waiters: number) {
    await t.coordinator().limits.create('gpu', { slots })
    const held: string[] = []
    for (let i = 0; i < slots; i++) held.push((await acquire(1, false)).lease_id!)
    const queued: string[] = []
    for (let i = 0; i < waiters; i++) queued.push((await acquire()).waiter_id!)
    return { held, queued }
  }

  it('a release while a request queues, not committed yet, hands the slot to it once it commits', async () => {
    const { held } = await fullLimit(1, 0)
    const queuing = await session()
    await queuing.query('BEGIN')
    const [request] = (await queuing.query(`SELECT waiter_id FROM acquire('{gpu}', 1, '1 minute', '{}', true)`)).rows
    const release = t.query('SELECT release($1)', [held[0]])
    await waitsForLock('SELECT release(%')
    await queuing.query('COMMIT')
    await release
    expect(await granted(request.waiter_id)).toBe(true)
    expect(await waiting()).toEqual([])
  })

  it('slots lowered before the handoff: the release frees its slot and grants nobody', async () => {
    const { held, queued } = await fullLimit(4, 1)
    const admin = await session()
    await admin.query('BEGIN')
    await admin.query("SELECT put_limit('gpu', 2, NULL, NULL, 'update')")
    const release = t.query('SELECT release($1)', [held[0]])
    await waitsForLock('SELECT release(%')
    await admin.query('COMMIT')
    await release
    expect(await activeSlots()).toBe(3)
    expect(await waiting()).toEqual(queued)
  })

  it('slots lowered during a handoff wait for it, and the handoff counts against them', async () => {
    const { held, queued } = await fullLimit(4, 2)
    const releasing = await session()
    await releasing.query('BEGIN')
    await releasing.query('SELECT release($1)', [held[0]])
    const lower = t.query("SELECT put_limit('gpu', 2, NULL, NULL, 'update')")
    await waitsForLock('SELECT put_limit(%')
    await releasing.query('COMMIT')
    await lower
    expect(await granted(queued[0]!)).toBe(true)
    expect(await activeSlots()).toBe(4)
    // Over the lowered limit: the next releases free slots and grant nobody until 2 are held.
    for (const lease of held.slice(1, 3)) await t.query('SELECT release($1)', [lease])
    expect(await activeSlots()).toBe(2)
    expect(await waiting()).toEqual([queued[1]])
    await t.query('SELECT release($1)', [held[3]])
    expect(await granted(queued[1]!)).toBe(true)
  })

  it('a head whose row is busy (a heartbeat in flight) is waited for and granted, not passed over', async () => {
    const { held, queued } = await fullLimit(1, 2)
    const heartbeat = await session()
    await heartbeat.query('BEGIN')
    await heartbeat.query('SELECT 1 FROM waiters WHERE id = $1 FOR UPDATE', [queued[0]])
    const release = t.query('SELECT release($1)', [held[0]])
    await waitsForLock('SELECT release(%')
    await heartbeat.query('COMMIT')
    await release
    expect(await granted(queued[0]!)).toBe(true)
    expect(await waiting()).toEqual([queued[1]])
  })

  it('a dead head is removed and the next live waiter gets the slot', async () => {
    const { held, queued } = await fullLimit(1, 2)
    await t.query('UPDATE waiters SET expires_at = clock_timestamp() - interval \'1 second\' WHERE id = $1', [queued[0]])
    await t.query('SELECT release($1)', [held[0]])
    expect(await granted(queued[1]!)).toBe(true)
    expect(await waiting()).toEqual([])
    expect(await t.count(`history WHERE kind = 'cancelled'`)).toBe(1)
  })

  it('a head that asks for more than the release frees is not barged past', async () => {
    const { held } = await fullLimit(2, 0)
    const big = (await acquire(2)).waiter_id!
    const small = (await acquire(1)).waiter_id!
    await t.query('SELECT release($1)', [held[0]])
    expect(await activeSlots()).toBe(1)
    expect(await waiting()).toEqual([big, small])
    await t.query('SELECT release($1)', [held[1]])
    expect(await granted(big)).toBe(true)
    expect(await waiting()).toEqual([small])
  })
})
