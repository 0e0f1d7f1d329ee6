import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { LeaseLostError, type Lease } from '../../src/index.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { useTestSchema } from '../helpers/test-schema.js'

const t = useTestSchema()
let proxy: TcpProxy
beforeAll(async () => {
  proxy = await TcpProxy.inFrontOf(t.url)
})
afterEach(() => proxy.resume())
afterAll(() => proxy.stop())

const ttlMs = 2000

/** The lease's row as the database sees it now (undefined once reaped). */
async function inDatabase(lease: Lease): Promise<{ live: boolean; expires_at: Date } | undefined> {
  const [row] = await t.query<{ live: boolean; expires_at: Date }>(
    'SELECT expires_at > clock_timestamp() AS live, expires_at FROM leases WHERE fencing_token = $1',
    [lease.fencingToken.toString()],
  )
  return row
}

/** The signal's reason once it aborts; rejects when it has not within `ms`. */
function abortedWithin(signal: AbortSignal, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the lease's signal did not abort within ${ms} ms`)), ms)
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true })
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true })
  })
}

describe.each(['thread', 'event-loop'] as const)('a release that fails (the database unreachable; renewing from the %s)', (renewIn) => {
  /** A lease on a limit of its own, held through the proxy, whose first release() fails. */
  async function leaseWithFailedRelease(name: string): Promise<Lease> {
    await t.coordinator().limits.create(name, { slots: 1 })
    const holder = t.coordinator({ connectionString: proxy.url(t.url), listen: false, renewIn })
    const lease = await holder.acquire(name, { ttlMs })
    proxy.drop()
    await expect(lease.release()).rejects.toThrow()
    return lease
  }

  it('leaves the lease held and renewing, and a retry releases it once the database is back', async () => {
    const lease = await leaseWithFailedRelease(`retry-${renewIn}`)
    const before = await inDatabase(lease)
    proxy.resume()
    // Two ttls later the lease lives on: renewals resumed after the failed release.
    await sleep(2 * ttlMs)
    expect(lease.lost).toBe(false)
    const after = await inDatabase(lease)
    expect(after?.live).toBe(true)
    expect(after!.expires_at.getTime()).toBeGreaterThan(before!.expires_at.getTime() + ttlMs)
    expect(await lease.release()).toBe(true)
    const [ended] = await t.query<{ kind: string }>('SELECT kind FROM history WHERE fencing_token = $1', [
      lease.fencingToken.toString(),
    ])
    expect(ended?.kind).toBe('released')
  })

  it('keeps the trust window running: the signal aborts before the database expiry while the database stays away', async () => {
    const lease = await leaseWithFailedRelease(`stays-away-${renewIn}`)
    const reason = await abortedWithin(lease.signal, 2 * ttlMs)
    const row = await inDatabase(lease)
    expect(reason).toBeInstanceOf(LeaseLostError)
    expect(lease.lost).toBe(true)
    // Still live in the database when the holder stopped trusting it.
    expect(row?.live).toBe(true)
    proxy.resume()
    // Answered once the database is reachable again (true if it was still live, false if expired).
    expect(typeof (await lease.release())).toBe('boolean')
  })
})
