import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { registerMetrics } from '../../src/index.js'
import { useTestSchema } from '../helpers/test-schema.js'

// A rate limit holds no slots (activeSlots stays 0): its bucket is what shows how used it is.
describe('rate limit bucket levels in LimitInfo and limit_status', () => {
  const t = useTestSchema()

  it('a used-up bucket shows no free room, full utilisation, and when the next slot frees', async () => {
    const slots = t.coordinator()
    await slots.limits.create('api:level', { slots: 4, slotDecayPerSecond: 0.01 })
    await slots.rateLimit('api:level', { occupy: 4 })
    const info = await slots.limits.get('api:level')
    expect(info.activeSlots).toBe(0)
    expect(info.bucketLevel).toBeGreaterThan(3.9)
    expect(info.bucketLevel).toBeLessThanOrEqual(4)
    // One slot drains in 100 s at 0.01/s.
    const freesIn = info.bucketFreesAt!.getTime() - Date.now()
    expect(freesIn).toBeGreaterThan(80_000)
    expect(freesIn).toBeLessThan(101_000)
    const [row] = await t.query<{ free: number; utilisation: string; bucket_level: number }>(
      `SELECT free, utilisation, bucket_level FROM limit_status WHERE name = 'api:level'`,
    )
    expect(row).toMatchObject({ free: 0 })
    expect(Number(row!.utilisation)).toBeGreaterThan(0.97)
    const [listed] = await slots.limits.list({ prefix: 'api:level' })
    expect(listed?.bucketLevel).toBeCloseTo(info.bucketLevel!, 1)
  })

  it('a bucket with room frees nothing later; a concurrency limit has no bucket', async () => {
    const slots = t.coordinator()
    const made = await slots.limits.create('api:roomy', { slots: 4, slotDecayPerSecond: 1 })
    expect(made).toMatchObject({ bucketLevel: 0, bucketFreesAt: null })
    await slots.rateLimit('api:roomy', { occupy: 1 })
    const info = await slots.limits.get('api:roomy')
    expect(info.bucketFreesAt).toBeNull()
    const [row] = await t.query<{ free: number }>(`SELECT free FROM limit_status WHERE name = 'api:roomy'`)
    expect(row!.free).toBeGreaterThanOrEqual(3)
    const plain = await slots.limits.create('gpu:plain', { slots: 1 })
    expect(plain).toMatchObject({ bucketLevel: null, bucketFreesAt: null })
    expect(await slots.limits.get('gpu:plain')).toMatchObject({ bucketLevel: null, bucketFreesAt: null })
  })

  it('metrics show the bucket of rate limits only', async () => {
    const slots = t.coordinator()
    await slots.limits.create('api:metered', { slots: 2, slotDecayPerSecond: 0.01 })
    await slots.rateLimit('api:metered', { occupy: 2 })
    const registry = new Registry()
    const unregister = registerMetrics(slots, registry)
    const text = await registry.metrics()
    unregister()
    expect(text).toMatch(/pgslots_limit_bucket_level\{limit="api:metered"\} (1\.9\d*|2)\n/)
    const freesIn = Number(/pgslots_limit_bucket_frees_in_seconds\{limit="api:metered"\} ([\d.]+)/.exec(text)?.[1])
    expect(freesIn).toBeGreaterThan(80)
    expect(freesIn).toBeLessThanOrEqual(100)
    expect(text).not.toMatch(/pgslots_limit_bucket_level\{limit="gpu:plain"\}/)
  })

  it('a request that creates a limit from a template says so through onWarning, once', async () => {
    const warnings: string[] = []
    const slots = t.coordinator({ onWarning: (m) => warnings.push(m) })
    await slots.limits.create('tpl:*', { slots: 1 })
    await (await slots.acquire('tpl:new')).release()
    await (await slots.acquire('tpl:new')).release()
    expect(warnings).toEqual(['created tpl:new from template tpl:*'])
  })
})
