import { beforeAll, describe, expect, it } from 'vitest'
import { type Coordinator, ImpossibleRequestError, ValidationError } from '../../src/index.js'
import { runWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'

describe('rate limits', () => {
  const t = useTestSchema()
  let slots: Coordinator
  beforeAll(() => {
    slots = t.coordinator()
  })

  it('rejects rateLimit() on a plain limit, too large requests and a ttl', async () => {
    await slots.limits.create('plain', { slots: 3 })
    await slots.limits.create('rl:small', { slots: 2, slotDecayPerSecond: 1 })
    await expect(slots.rateLimit('plain')).rejects.toBeInstanceOf(ValidationError)
    await expect(slots.rateLimit('plain')).rejects.toThrow(/not a rate limit/)
    await expect(slots.rateLimit('rl:small', { occupy: 3 })).rejects.toBeInstanceOf(ImpossibleRequestError)
    await expect(slots.rateLimit('rl:small', { ttlMs: 1000 } as never)).rejects.toThrow(/options\.ttlMs/)
  })

  it('keeps 100 calls from 2 processes within 5 + 10·t in every window, at ≥ 90 % of the budget rate', async () => {
    await slots.limits.create('rl:api', { slots: 5, slotDecayPerSecond: 10 })
    const outputs = await Promise.all(
      ['a', 'b'].map((label) =>
        runWorker('slot-worker', { url: t.url, schema: t.schema, action: 'rate-limit', names: ['rl:api'], count: 50, label }),
      ),
    )
    expect(outputs.flat()).toHaveLength(100)
    const grants = await t.query<{ s: number }>(
      `SELECT extract(epoch FROM at)::double precision AS s FROM events
       WHERE kind = 'acquired' AND names = '{rl:api}' ORDER BY at`,
    )
    expect(grants).toHaveLength(100)
    const times = grants.map((g) => g.s)
    let worst = Number.NEGATIVE_INFINITY
    for (let i = 0; i < times.length; i++) {
      for (let j = i; j < times.length; j++) {
        const taken = j - i + 1
        const allowed = 5 + 10 * ((times[j] as number) - (times[i] as number))
        worst = Math.max(worst, taken - allowed)
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-4) // microsecond timestamps: 10 µs of drain
    const span = (times.at(-1) as number) - (times[0] as number)
    const rate = (times.length - 5) / span
    console.log(`rate limit 5 + 10/s: 100 grants in ${span.toFixed(2)} s = ${rate.toFixed(2)} slots/s after the burst`)
    expect(rate).toBeGreaterThanOrEqual(9)

    const info = await slots.limits.get('rl:api')
    expect(info.activeSlots).toBe(0)
    const [refused] = await t.query<{ n: number }>(
      `SELECT coalesce(sum(occupy), 0)::int AS n FROM events WHERE kind IN ('queued', 'denied') AND names = '{rl:api}'`,
    )
    expect(info.deniedSlots).toBe(refused?.n)
    expect(info.deniedSlots).toBeGreaterThanOrEqual(90)
  }, 60_000)

  it('holds a concurrency limit and drains a rate limit in one combined acquire', async () => {
    await slots.limits.create('combo:gpu', { slots: 1 })
    await slots.limits.create('combo:rate', { slots: 2, slotDecayPerSecond: 0.5 })
    const lease = await slots.acquire(['combo:gpu', 'combo:rate'])
    expect((await slots.limits.get('combo:gpu')).activeSlots).toBe(1)
    expect((await slots.limits.get('combo:rate')).activeSlots).toBe(0)
    await lease.release()
    // The gpu slot is back, but the rate budget stays spent until it drains.
    const second = await slots.acquire(['combo:gpu', 'combo:rate'])
    await second.release()
    expect(await slots.tryAcquire(['combo:gpu', 'combo:rate'])).toBeNull()
    const [bucket] = await t.query<{ level: number }>(
      "SELECT _bucket_level(l, clock_timestamp()) AS level FROM limits l WHERE name = 'combo:rate'",
    )
    expect(bucket!.level).toBeGreaterThan(1.5)
    expect(bucket!.level).toBeLessThanOrEqual(2)
  })

  it('tracks how long slots are held', async () => {
    await slots.limits.create('occupancy', { slots: 1 })
    await slots.concurrency('occupancy', () => new Promise((r) => setTimeout(r, 300)))
    const { avgSlotOccupancySeconds } = await slots.limits.get('occupancy')
    expect(avgSlotOccupancySeconds).toBeGreaterThanOrEqual(0.29)
    expect(avgSlotOccupancySeconds).toBeLessThan(5)
  })
})
