import { beforeAll, describe, expect, it } from 'vitest'
import type { Coordinator } from '../../src/index.js'
import { checkInvariants, violations } from '../helpers/invariants.js'
import { startWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'

describe('expiry', () => {
  const t = useTestSchema()
  let slots: Coordinator
  beforeAll(() => {
    slots = t.coordinator()
  })

  it('gives a SIGKILLed holder’s slot to a waiter in another process at TTL expiry, not before', async () => {
    await slots.limits.create('crash', { slots: 1 })
    const holder = await startWorker<{ token: string }>('slot-worker', {
      url: t.url,
      schema: t.schema,
      action: 'hold',
      names: ['crash'],
      ttlMs: 2000,
      label: 'doomed',
    })
    const waiting = slots.acquire('crash', { timeoutMs: 20_000 })
    await new Promise((r) => setTimeout(r, 300))
    await holder.kill('SIGKILL')
    const [dead] = await t.query<{ expires_at: Date }>('SELECT expires_at FROM leases WHERE fencing_token = $1', [
      holder.first.token,
    ])
    const lease = await waiting
    const [expired] = await t.query<{ at: Date }>(
      `SELECT e.at FROM events e WHERE e.kind = 'expired' AND e.fencing_token = $1`,
      [holder.first.token],
    )
    const [granted] = await t.query<{ at: Date }>(
      `SELECT at FROM events WHERE kind = 'acquired' AND fencing_token = $1`,
      [lease.fencingToken.toString()],
    )
    expect(expired).toBeDefined()
    expect(granted!.at.getTime()).toBeGreaterThanOrEqual(expired!.at.getTime())
    expect(lease.fencingToken).toBeGreaterThan(BigInt(holder.first.token))
    expect(granted!.at.getTime()).toBeGreaterThanOrEqual(dead!.expires_at.getTime())
    console.log(`crashed holder: slot granted ${granted!.at.getTime() - dead!.expires_at.getTime()} ms after its expires_at`)
    await lease.release()
    const report = await checkInvariants((q) => t.query(q), { crash: 1 })
    expect(violations(report)).toEqual([])
  })

  it('reap() ends expired leases and waiters, hands slots on, and prunes old events', async () => {
    await slots.limits.create('reaped', { slots: 1 })
    await t.query(`SELECT * FROM acquire(ARRAY['reaped'], 1, '200 milliseconds', '"gone"')`)
    const [queued] = await t.query<{ waiter_id: string }>(
      `SELECT * FROM acquire(ARRAY['reaped'], 1, '30 seconds', '"dead waiter"', true, false, '200 milliseconds')`,
    )
    await t.query(`INSERT INTO history (kind, names, occupy, ended_at) VALUES ('denied', '{old}', 1, now() - interval '8 days')`)
    await new Promise((r) => setTimeout(r, 400))
    const [result] = await t.query<{ expired_leases: number; expired_waiters: number; pruned_history: number }>(
      'SELECT * FROM reap()',
    )
    // Ending the lease offers its slot to the waiter, which is found dead and removed instead.
    expect(result!.expired_leases).toBe(1)
    expect(result!.pruned_history).toBe(1)
    const [cancelled] = await t.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE kind = 'cancelled' AND names = '{reaped}'",
    )
    expect(cancelled!.n).toBe(1)
    expect(await t.query('SELECT * FROM waiters WHERE id = $1', [queued!.waiter_id])).toEqual([])
    expect((await slots.limits.get('reaped')).activeSlots).toBe(0)
    expect(await t.query("SELECT * FROM leases WHERE 'reaped' = ANY (counted)")).toEqual([])
  })

  it('runs one reaper pass at a time across coordinators (advisory-lock leader per pass)', async () => {
    const others = [t.coordinator(), t.coordinator(), t.coordinator()]
    const results = await Promise.all(others.map((c) => c.reap()))
    expect(results.filter((r) => r !== null).length).toBeGreaterThanOrEqual(1)
    for (const r of results) if (r) expect(r).toMatchObject({ expiredLeases: expect.any(Number) })
  })

  it('the in-process reaper cleans up without any request touching the limit', async () => {
    const reaping = t.coordinator({ reaper: true, reaperIntervalMs: 200 })
    await reaping.limits.create('background', { slots: 1 })
    await t.query(`SELECT * FROM acquire(ARRAY['background'], 1, '150 milliseconds', '"crashed"')`)
    const end = Date.now() + 10_000
    while (Date.now() < end && (await reaping.limits.get('background')).activeSlots > 0) {
      await new Promise((r) => setTimeout(r, 50))
    }
    expect((await reaping.limits.get('background')).activeSlots).toBe(0)
    const [expired] = await t.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE kind = 'expired' AND names = '{background}'",
    )
    expect(expired!.n).toBe(1)
  })
})
