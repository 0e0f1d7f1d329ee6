import { beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { AcquireTimeoutError, Coordinator } from '../../src/index.js'
import { runWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

describe('waiting and handoff', () => {
  const t = useTestSchema()
  let slots: Coordinator

  beforeAll(() => {
    slots = t.coordinator()
  })

  it('serves 50 waiters from 3 processes exactly in arrival order', async () => {
    await slots.limits.create('fifo', { slots: 1 })
    const gate = await slots.acquire('fifo')
    const workers = [17, 17, 16].map((n, i) =>
      runWorker<{ holder: string; token: string }>('slot-worker', {
        url: t.url,
        schema: t.schema,
        action: 'acquire-in-turn',
        names: ['fifo'],
        count: n,
        holdMs: 2,
        label: `p${i}`,
      }),
    )
    await until(async () => (await t.count("waiters WHERE queue = 'fifo'")) === 50, '50 waiters queued')
    await gate.release()
    const outputs = await Promise.all(workers)
    expect(outputs.flat()).toHaveLength(50)
    const queued = await t.query<{ holder: string }>(
      "SELECT holder #>> '{}' AS holder FROM events WHERE kind = 'queued' AND names = '{fifo}' ORDER BY at",
    )
    const granted = await t.query<{ holder: string }>(
      `SELECT holder #>> '{}' AS holder FROM events
       WHERE kind = 'acquired' AND names = '{fifo}' AND wait_seconds > 0 ORDER BY fencing_token`,
    )
    expect(queued).toHaveLength(50)
    expect(granted.map((r) => r.holder)).toEqual(queued.map((r) => r.holder))
    expect(await t.count('waiters')).toBe(0)
    expect((await slots.limits.get('fifo')).activeSlots).toBe(0)
  })

  it('does not starve a large request behind a stream of small ones (no barging)', async () => {
    await slots.limits.create('big', { slots: 2 })
    const small = await slots.acquire('big')
    const large = slots.acquire('big', { occupy: 2 })
    await until(async () => (await t.count("waiters WHERE queue = 'big'")) === 1, 'large request queued')
    // One slot is free, but the large request is first in line: newcomers queue behind it.
    expect(await slots.tryAcquire('big')).toBeNull()
    const later = slots.acquire('big')
    await until(async () => (await t.count("waiters WHERE queue = 'big'")) === 2, 'small request queued')
    await small.release()
    const bigLease = await large
    expect(bigLease.occupy).toBe(2)
    expect((await slots.limits.get('big')).activeSlots).toBe(2)
    await bigLease.release()
    const laterLease = await later
    expect(laterLease.fencingToken).toBeGreaterThan(bigLease.fencingToken)
    await laterLease.release()
  })

  it('does not lose a grant when the LISTEN connection is killed mid-wait', async () => {
    await slots.limits.create('killed', { slots: 1 })
    const waiterSide = t.coordinator({ pollIntervalMs: 60_000 })
    const held = await slots.acquire('killed')
    const pending = waiterSide.acquire('killed', { timeoutMs: 20_000 })
    await until(
      async () => (await t.count("pg_stat_activity WHERE application_name = 'pgslots-listener'")) > 0,
      'listener connected',
    )
    const killed = await t.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'pgslots-listener'",
    )
    expect(killed.length).toBeGreaterThan(0)
    await held.release()
    const lease = await pending
    expect(lease.names).toEqual(['killed'])
    await lease.release()
  })

  it('leaves no waiter and no lease behind after a timeout or an abort', async () => {
    await slots.limits.create('left', { slots: 1 })
    const held = await slots.acquire('left')
    await expect(slots.acquire('left', { timeoutMs: 50 })).rejects.toBeInstanceOf(AcquireTimeoutError)
    const controller = new AbortController()
    const aborted = slots.acquire('left', { signal: controller.signal })
    await until(async () => (await t.count('waiters')) === 1, 'waiter queued')
    controller.abort(new Error('user gave up'))
    await expect(aborted).rejects.toThrow('user gave up')
    expect(await t.count('waiters')).toBe(0)
    await held.release()
    expect(await t.count("leases WHERE 'left' = ANY (counted)")).toBe(0)
  })

  it('ends every pending wait of a coordinator that closes, and takes its waiters out of line', async () => {
    await slots.limits.create('closing', { slots: 1 })
    const held = await slots.acquire('closing')
    const closing = t.coordinator()
    const other = new AbortController()
    const waits = Array.from({ length: 40 }, (_, i) =>
      closing.acquire('closing', i % 2 === 0 ? {} : { signal: other.signal }).then(
        () => 'granted',
        (error: Error) => error.message,
      ),
    )
    await until(async () => (await t.count("waiters WHERE queue = 'closing'")) === 40, '40 waiters queued')
    await closing.close()
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['pgslots: coordinator closed']))
    expect(await t.count("waiters WHERE queue = 'closing'")).toBe(0)
    await held.release()
  })

  it('gives back a grant whose call was on the way when its coordinator closed', async () => {
    await slots.limits.create('closing-grant', { slots: 1 })
    const closing = t.coordinator()
    const taking = closing.tryAcquire('closing-grant').then(
      () => 'kept',
      (error: Error) => error.message,
    )
    await closing.close()
    expect(await taking).toBe('pgslots: coordinator closed')
    expect(await t.count("leases WHERE 'closing-grant' = ANY (counted)")).toBe(0)
  })

  it('gives up at once a request aborted while its acquire call was on the way', async () => {
    await slots.limits.create('aborted-early', { slots: 1 })
    const held = await slots.acquire('aborted-early')
    const controller = new AbortController()
    // Aborts the moment the acquire call is sent: its answer, 'waiting', comes after the abort.
    const pool = new pg.Pool({ connectionString: t.url })
    const query = pool.query.bind(pool) as (q: unknown, values?: unknown) => Promise<unknown>
    pool.query = ((q: { text?: string }, values?: unknown) => {
      if (/\.acquire\(/.test(q?.text ?? '')) controller.abort(new Error('gave up before the answer'))
      return query(q, values)
    }) as unknown as typeof pool.query
    const waiter = new Coordinator({ pool, schema: t.schema })
    try {
      const aborted = waiter.acquire('aborted-early', { signal: controller.signal, timeoutMs: 60_000 })
      await expect(aborted).rejects.toThrow('gave up before the answer')
      expect(await t.count("waiters WHERE queue = 'aborted-early'")).toBe(0)
    } finally {
      await waiter.close()
      await pool.end()
    }
    await held.release()
  })

  it('releases a grant that raced the timeout instead of leaking it', async () => {
    await slots.limits.create('racy', { slots: 1 })
    const other = t.coordinator()
    let timeouts = 0
    for (let i = 0; i < 30; i++) {
      const held = await slots.acquire('racy')
      const waiting = other.acquire('racy', { timeoutMs: 15 }).then(
        (lease) => lease.release(),
        (error: unknown) => {
          expect(error).toBeInstanceOf(AcquireTimeoutError)
          timeouts++
        },
      )
      await new Promise((r) => setTimeout(r, 10 + (i % 10)))
      await held.release()
      await waiting
    }
    expect(timeouts).toBeGreaterThan(0)
    expect(await t.count('waiters')).toBe(0)
    expect(await t.count("leases WHERE 'racy' = ANY (counted)")).toBe(0)
    expect((await slots.limits.get('racy')).activeSlots).toBe(0)
  })

  it('hands off by polling when LISTEN is off', async () => {
    await slots.limits.create('polled', { slots: 1 })
    const poller = t.coordinator({ listen: false })
    const held = await slots.acquire('polled')
    const pending = poller.acquire('polled', { timeoutMs: 10_000 })
    await until(async () => (await t.count('waiters')) === 1, 'waiter queued')
    await held.release()
    const lease = await pending
    expect(lease.names).toEqual(['polled'])
    await lease.release()
  })

  it('grants waiters when slots are raised or the limit is disabled', async () => {
    await slots.limits.create('raise', { slots: 1 })
    const held = await slots.acquire('raise')
    // Queue a, then b: two requests sent at once may reach the database in either order.
    const a = slots.acquire('raise', { timeoutMs: 10_000 })
    await until(async () => (await t.count("waiters WHERE queue = 'raise'")) === 1, 'a queued')
    const b = slots.acquire('raise', { timeoutMs: 10_000 })
    await until(async () => (await t.count("waiters WHERE queue = 'raise'")) === 2, 'two queued')
    const raised = await slots.limits.update('raise', { slots: 2 })
    expect(raised.activeSlots).toBe(2)
    const leaseA = await a
    await slots.limits.disable('raise')
    const leaseB = await b
    await Promise.all([held.release(), leaseA.release(), leaseB.release()])
    expect((await slots.limits.get('raise')).activeSlots).toBe(0)
  })
})
