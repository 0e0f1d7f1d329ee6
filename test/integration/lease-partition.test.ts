import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LeaseLostError } from '../../src/index.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { useTestSchema } from '../helpers/test-schema.js'

describe('lease under a network partition', () => {
  const t = useTestSchema()
  let proxy: TcpProxy
  beforeAll(async () => {
    proxy = await TcpProxy.inFrontOf(t.url)
  })
  afterAll(() => proxy.stop())

  it.each([
    ['stalls (half-open: renewals hang, no answer, no error)', 'stall'],
    ['drops (every connection and reconnect is reset)', 'drop'],
  ] as const)('tells the holder before the database could give its slots to anyone else when the network %s', async (_, fault) => {
    const admin = t.coordinator()
    const name = `cut-${fault}`
    await admin.limits.create(name, { slots: 1 })
    const holder = t.coordinator({ connectionString: proxy.url(t.url), listen: false })
    const lease = await holder.acquire(name, { ttlMs: 2000 })
    proxy[fault]()

    const reason = await new Promise<unknown>((resolve) =>
      lease.signal.addEventListener('abort', () => resolve(lease.signal.reason), { once: true }),
    )
    const [row] = await t.query<{ now: Date; expires_at: Date }>(
      'SELECT clock_timestamp() AS now, expires_at FROM leases WHERE fencing_token = $1',
      [lease.fencingToken.toString()],
    )
    expect(reason).toBeInstanceOf(LeaseLostError)
    // Still live in the database when the holder stopped trusting it.
    expect(row).toBeDefined()
    expect(row!.now.getTime()).toBeLessThan(row!.expires_at.getTime())
    // After expiry the slot goes to someone else.
    const next = await admin.acquire(name, { timeoutMs: 5000 })
    expect(next.fencingToken).toBeGreaterThan(lease.fencingToken)
    await next.release()
    proxy.resume()
    proxy.cut()
  })
})
