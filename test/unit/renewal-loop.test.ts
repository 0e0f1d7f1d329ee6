import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LeaseLostError, type PgSlotsError } from '../../src/errors.js'
import { RenewalLoop } from '../../src/lease/renewal-loop.js'
import { TrustWindow } from '../../src/lease/trust-window.js'
import type { AcquireRow } from '../../src/sql/acquire.js'

/** A renew answer: the lease expires `ttlMs` from a database now of `at`. */
function answer(at: number, ttlMs: number): AcquireRow {
  const none = { lease_id: 'l', fencing_token: '1', waiter_id: null, ticket: null, names: [], missing: [], next_expiry: null }
  return { status: 'acquired', ...none, expires_at: new Date(at + ttlMs), db_now: new Date(at) }
}

interface Deferred {
  resolve(row: AcquireRow): void
  reject(error: unknown): void
}

/** A loop whose renew calls the test answers one by one, on a clock the fake timers move. */
function loopOf(ttlMs: number) {
  const trust = new TrustWindow()
  const calls: Deferred[] = []
  const losses: PgSlotsError[] = []
  const loop = new RenewalLoop({
    ttlMs,
    trust,
    renewOnce: () => new Promise<AcquireRow>((resolve, reject) => calls.push({ resolve, reject })),
    onLost: (error) => losses.push(error),
    clock: () => Date.now(),
  })
  return { loop, trust, calls, losses }
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms)

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('RenewalLoop', () => {
  it('renews at dueAt, then ttl/3 after each answer, and each answer extends the trust window', async () => {
    const { loop, trust, calls } = loopOf(3000)
    loop.start(Date.now() + 1000)
    await advance(999)
    expect(calls).toHaveLength(0)
    await advance(1)
    expect(calls).toHaveLength(1)
    // The next one counts from the answer, not from the send.
    await advance(200)
    calls[0]!.resolve(answer(Date.now(), 3000))
    await advance(0)
    expect(trust.expiresAt().getTime()).toBe(Date.now() + 3000)
    await advance(999)
    expect(calls).toHaveLength(1)
    await advance(1)
    expect(calls).toHaveLength(2)
  })

  it.each([
    [3000, 300],
    [30_000, 1000],
  ])('retries an unreachable database every min(ttl/10, 1 s): ttl %i ms, %i ms', async (ttlMs, retryMs) => {
    const { loop, calls, losses } = loopOf(ttlMs)
    loop.start(Date.now())
    await advance(0)
    calls[0]!.reject(new Error('connect ECONNREFUSED'))
    await advance(retryMs - 1)
    expect(calls).toHaveLength(1)
    await advance(1)
    expect(calls).toHaveLength(2)
    expect(losses).toEqual([])
  })

  it('ends when the database says the lease is gone: the trust window closes, the loss is reported once', async () => {
    const { loop, trust, calls, losses } = loopOf(3000)
    loop.start(Date.now())
    await advance(0)
    calls[0]!.resolve(answer(Date.now(), 3000))
    await advance(1000)
    const gone = new LeaseLostError('lease lost: it expired, was revoked or was released')
    calls[1]!.reject(gone)
    await advance(10_000)
    expect(losses).toEqual([gone])
    // Closed for good: even a true answer cannot reopen it.
    trust.extend(answer(Date.now(), 3000), Date.now(), 3000)
    expect(trust.remainingMs()).toBeLessThan(-1e9)
    expect(calls).toHaveLength(2)
  })

  it('after stop() (a release under way), the loss its renewal is answered is not reported and the window stays open', async () => {
    const { loop, trust, calls, losses } = loopOf(3000)
    loop.start(Date.now())
    await advance(0)
    calls[0]!.resolve(answer(Date.now(), 3000))
    await advance(1000)
    loop.stop()
    calls[1]!.reject(new LeaseLostError('lease lost: it expired, was revoked or was released'))
    await advance(10_000)
    expect(losses).toEqual([])
    expect(trust.remainingMs()).toBeGreaterThan(-1e9)
    expect(calls).toHaveLength(2)
  })

  it('after stop(), an answer still extends the trust window but reports and schedules nothing', async () => {
    const { loop, trust, calls, losses } = loopOf(3000)
    loop.start(Date.now())
    await advance(0)
    loop.stop()
    calls[0]!.resolve(answer(Date.now(), 3000))
    await advance(10_000)
    expect(trust.expiresAt().getTime()).toBe(1_000_000 + 3000)
    expect(calls).toHaveLength(1)
    expect(losses).toEqual([])
  })

  it('start() again replaces the schedule; the earlier run answers into nothing', async () => {
    const { loop, calls, losses } = loopOf(3000)
    loop.start(Date.now())
    await advance(0)
    loop.start(Date.now() + 500)
    calls[0]!.reject(new LeaseLostError('lease lost'))
    await advance(500)
    expect(calls).toHaveLength(2)
    expect(losses).toEqual([])
  })
})
