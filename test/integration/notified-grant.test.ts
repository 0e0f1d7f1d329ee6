import { createHash } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Coordinator } from '../../src/index.js'
import { listenerChannel } from '../../src/wait/wire-protocol.js'
import { spiedPool } from '../helpers/spied-pool.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// A listening waiter is granted outright: the NOTIFY carries its lease, so it needs no
// claim round trip. Anyone may NOTIFY, so a grant counts only with a check made from the
// waiter's secret id; a missed NOTIFY is made up for by the safety poll.
describe('a grant delivered in the NOTIFY', () => {
  let proxy: TcpProxy
  const pools: pg.Pool[] = []
  // Registered before the schema, so it runs after the schema's cleanup (vitest runs afterAll
  // hooks in reverse): the coordinators closed there use these pools and this proxy.
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()))
    await proxy.stop()
  })
  const t = useTestSchema()
  let owner: Coordinator
  beforeAll(async () => {
    owner = t.coordinator()
    proxy = await TcpProxy.inFrontOf(t.url)
  })

  /** A real pool that counts the claim() calls made through it. */
  function countingPool(): { pool: pg.Pool; claims: () => number } {
    const spied = spiedPool(t.url)
    pools.push(spied.pool)
    return { pool: spied.pool, claims: () => spied.calls('claim') }
  }

  /** Holds `name`, queues `holder` behind it and waits until its waiter records its listener. */
  async function queueBehind(name: string, waiter: Coordinator, holder: string) {
    await owner.limits.create(name, { slots: 1 })
    const held = await owner.acquire(name)
    const pending = waiter.acquire(name, { holder, ttlMs: 60_000, timeoutMs: 20_000 })
    await until(
      async () => (await t.query(`SELECT 1 FROM waiters WHERE holder = $1 AND listener_pid IS NOT NULL`, [JSON.stringify(holder)])).length === 1,
      'the waiter to record its listener',
    )
    const [queued] = await t.query<{ ticket: string }>('SELECT ticket FROM waiters WHERE holder = $1', [JSON.stringify(holder)])
    return { held, pending, ticket: queued!.ticket }
  }

  it('hands the lease over with no claim call, with its full ttl and the waiter id as lease id', async () => {
    const { pool, claims } = countingPool()
    const waiter = t.coordinator({ pool })
    const { held, pending } = await queueBehind('direct', waiter, 'direct waiter')
    // (Once LISTEN is in effect, every waiter looks once for a grant it may have missed.)
    const claimsBefore = claims()
    await held.release()
    const lease = await pending

    expect(claims()).toBe(claimsBefore)
    const [row] = await t.query<{ fencing_token: string; ttl_ms: number }>(
      `SELECT fencing_token, extract(epoch FROM expires_at - acquired_at) * 1000 AS ttl_ms FROM leases WHERE names = '{direct}'`,
    )
    expect(BigInt(row!.fencing_token)).toBe(lease.fencingToken)
    // The full ttl from the grant, not the short window a grant waiting for its claim gets.
    expect(Number(row!.ttl_ms)).toBeGreaterThan(59_000)
    expect(Number(row!.ttl_ms)).toBeLessThanOrEqual(60_000)
    expect(await t.query('SELECT 1 FROM waiters')).toEqual([])
    expect(lease.lost).toBe(false)
    expect(await lease.release()).toBe(true)
  })

  it('ignores a forged grant: the waiter only looks again, and gets the real lease later', async () => {
    const { pool, claims } = countingPool()
    const waiter = t.coordinator({ pool })
    const { held, pending, ticket } = await queueBehind('forged', waiter, 'forged waiter')
    let settled = false
    void pending.then(() => (settled = true), () => (settled = true))

    const claimsBefore = claims()
    const fields = `${ticket}:999999:${Date.now() + 3_600_000}`
    const check = createHash('sha256').update(`${fields}:not-the-waiter-id`).digest('hex')
    const [listening] = await t.query<{ listener_pid: number }>(
      `SELECT listener_pid FROM waiters WHERE holder = '"forged waiter"'`,
    )
    await t.query('SELECT pg_notify($1, $2)', [listenerChannel(listening!.listener_pid), `${fields}:${check}`])
    // The forged NOTIFY woke the waiter, which asked the database (a claim) and kept waiting.
    await until(async () => claims() > claimsBefore, 'the woken waiter to ask the database')
    expect(settled).toBe(false)
    expect(await t.query(`SELECT 1 FROM waiters WHERE holder = '"forged waiter"'`)).toHaveLength(1)

    await held.release()
    const lease = await pending
    expect(lease.fencingToken).not.toBe(999999n)
    const [row] = await t.query<{ fencing_token: string }>(`SELECT fencing_token FROM leases WHERE names = '{forged}'`)
    expect(BigInt(row!.fencing_token)).toBe(lease.fencingToken)
    await lease.release()
  })

  it('is found by the safety poll when the NOTIFY never arrives', async () => {
    const { pool, claims } = countingPool()
    const waiter = t.coordinator({ pool, listenConnectionString: proxy.url(t.url), pollIntervalMs: 200 })
    const { held, pending } = await queueBehind('missed', waiter, 'deaf waiter')
    proxy.stall() // the listening connection hears nothing more, and nothing tells it so
    await held.release()
    const lease = await pending
    proxy.resume()

    expect(claims()).toBeGreaterThan(0)
    const [row] = await t.query<{ fencing_token: string }>(`SELECT fencing_token FROM leases WHERE names = '{missed}'`)
    expect(BigInt(row!.fencing_token)).toBe(lease.fencingToken)
    const kinds = await t.query<{ kind: string }>(`SELECT kind FROM events WHERE holder = '"deaf waiter"' ORDER BY at`)
    expect(kinds.map((k) => k.kind)).toEqual(['queued', 'acquired'])
    await lease.release()
  })
})
