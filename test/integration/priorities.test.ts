import { beforeAll, describe, expect, it } from 'vitest'
import { AcquireTimeoutError, type Coordinator, ValidationError } from '../../src/index.js'
import { runWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

const t = useTestSchema()
let slots: Coordinator
beforeAll(() => {
  slots = t.coordinator()
})

const waiting = () => t.count('waiting')
const settled = <T>(promise: Promise<T>) => {
  let done = false
  void promise.then(
    () => (done = true),
    () => (done = true),
  )
  return () => done
}

describe('priorities', () => {
  it('serves higher priorities first and FIFO within one, across processes', async () => {
    await slots.limits.create('prio', { slots: 1 })
    const holder = await slots.acquire('prio')
    const order = [
      ['a', 0],
      ['b', 5],
      ['c', 0],
      ['d', 5],
      ['e', 2],
    ] as const
    const workers: Array<Promise<Array<{ label: string; token: string }>>> = []
    for (const [label, priority] of order) {
      // One at a time, so arrival order is known.
      workers.push(runWorker('priority-waiter', { url: t.url, schema: t.schema, name: 'prio', priority, label }))
      await until(async () => (await waiting()) === workers.length, `${label} queues`)
    }
    const inLine = await t.query<{ holder: string; priority: number }>('SELECT holder, priority FROM waiting ORDER BY priority DESC, ticket')
    expect(inLine.map((w) => w.holder)).toEqual(['b', 'd', 'e', 'a', 'c'])
    await holder.release()
    const granted = (await Promise.all(workers)).flat().sort((x, y) => (BigInt(x.token) < BigInt(y.token) ? -1 : 1))
    expect(granted.map((g) => g.label)).toEqual(['b', 'd', 'e', 'a', 'c'])
  })

  it('a waiting large request of high priority is not overtaken by smaller, lower ones; a higher newcomer goes first', async () => {
    await slots.limits.create('big', { slots: 2 })
    const held = [await slots.acquire('big'), await slots.acquire('big')]
    const large = slots.acquire('big', { occupy: 2, priority: 5, holder: 'large' })
    await until(async () => (await waiting()) === 1, 'the large request queues')
    const small = slots.acquire('big', { priority: 0, holder: 'small' })
    const smallDone = settled(small)
    await until(async () => (await waiting()) === 2, 'the small request queues')
    await held[0]!.release()
    // One slot is free; the head (large, priority 5) needs two: nobody behind it may pass.
    expect(await slots.tryAcquire('big')).toBeNull()
    expect(await slots.tryAcquire('big', { priority: 5 })).toBeNull()
    expect(smallDone()).toBe(false)
    // A newcomer of higher priority is ahead of the large request in line: it takes the free slot.
    const urgent = await slots.tryAcquire('big', { priority: 9, holder: 'urgent' })
    expect(urgent).not.toBeNull()
    await urgent!.release()
    await held[1]!.release()
    const big = await large
    expect(smallDone()).toBe(false)
    await big.release()
    await (await small).release()
  })

  it('a blocked multi-limit head of high priority holds back lower priorities behind it on each of its limits', async () => {
    await slots.limits.create('x', { slots: 1 })
    await slots.limits.create('y', { slots: 1 })
    const hx = await slots.acquire('x')
    const hy = await slots.acquire('y')
    const low = slots.acquire('y', { holder: 'low' })
    const lowDone = settled(low)
    await until(async () => (await waiting()) === 1, 'the low request queues on y')
    const both = slots.acquire(['x', 'y'], { priority: 3, holder: 'both' })
    await until(async () => (await waiting()) === 2, 'the high request queues on x and y')
    await hy.release()
    // y is free, but the high request is first in y's line and still waits for x.
    const [y] = await t.query<{ used: number; waiting: number }>("SELECT used, waiting FROM limit_status WHERE name = 'y'")
    expect(y).toEqual({ used: 0, waiting: 2 })
    expect(lowDone()).toBe(false)
    await hx.release()
    const lease = await both
    expect([...lease.names]).toEqual(['x', 'y'])
    expect(lowDone()).toBe(false)
    await lease.release()
    await (await low).release()
  })

  it('timeouts and aborts of prioritised waiters leave nothing behind; bad priorities are refused', async () => {
    await slots.limits.create('tmo', { slots: 1 })
    const held = await slots.acquire('tmo')
    await expect(slots.acquire('tmo', { priority: 7, timeoutMs: 200 })).rejects.toBeInstanceOf(AcquireTimeoutError)
    const abort = new AbortController()
    const aborted = slots.acquire('tmo', { priority: -7, signal: abort.signal })
    await until(async () => (await waiting()) === 1, 'the request queues')
    abort.abort(new Error('stop'))
    await expect(aborted).rejects.toThrow('stop')
    expect(await waiting()).toBe(0)
    await held.release()
    expect(await t.query('SELECT * FROM leases')).toEqual([])
    await expect(slots.acquire('tmo', { priority: 1001 })).rejects.toBeInstanceOf(ValidationError)
    await expect(slots.acquire('tmo', { priority: 1.5 })).rejects.toThrow(/priority/)
    await expect(t.query(`SELECT * FROM acquire(ARRAY['tmo'], 1, '1 minute', p_priority => 5000)`)).rejects.toThrow(
      /priority: must be an integer from -1000 to 1000/,
    )
  })
})
