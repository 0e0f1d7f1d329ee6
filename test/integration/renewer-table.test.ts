import { Worker } from 'node:worker_threads'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'

const t = useTestSchema()

/**
 * Every call of renew() in the test schema counts, also one that fails (a released lease):
 * the wrapper takes a number from a sequence, which no rollback gives back.
 */
beforeAll(async () => {
  await t.query('ALTER FUNCTION renew(uuid, interval) RENAME TO renew_counted')
  await t.query('CREATE SEQUENCE renew_calls')
  await t.query(`
    CREATE FUNCTION renew(p_lease_id uuid, p_ttl interval) RETURNS acquire_result LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM nextval('${t.schema}.renew_calls');
      RETURN ${t.schema}.renew_counted(p_lease_id, p_ttl);
    END $$`)
})

async function renewCalls(): Promise<number> {
  const [row] = await t.query<{ n: string }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM renew_calls')
  return Number(row!.n)
}

/** What the main thread posted to the renewer thread, besides opening a coordinator's connection. */
function postedBesidesOpen(spy: { mock: { calls: unknown[][] } }): unknown[] {
  return spy.mock.calls.map(([command]) => command).filter((c) => (c as { op: string }).op !== 'open')
}

/** Blocks this thread's event loop for `ms`. */
const block = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

afterEach(() => {
  vi.restoreAllMocks()
})

describe('the renewer thread learns of leases from shared memory', () => {
  it('costs no message for a lease released before its first renewal, and never renews it after release', async () => {
    const posted = vi.spyOn(Worker.prototype, 'postMessage')
    const slots = t.coordinator({ renewIn: 'thread', listen: false })
    await slots.limits.create('short-holds', { slots: 2 })
    const before = await renewCalls()
    // ttl 300 ms: a first renewal would be due 100 ms after each grant, released well before.
    for (let i = 0; i < 40; i++) {
      const lease = await slots.acquire('short-holds', { ttlMs: 300 })
      await sleep(5)
      expect(await lease.release()).toBe(true)
    }
    // Past several ttls since the last release: a renewal the thread still had in mind would have run.
    await sleep(700)
    expect(await renewCalls()).toBe(before)
    expect(postedBesidesOpen(posted)).toEqual([])
    // The coordinator's connection in the thread was opened once, at its first lease.
    expect(posted.mock.calls.length).toBe(1)
  })

  it('renews a lease held past ttl/3 from the thread while the holder blocks its event loop, with no message', async () => {
    const posted = vi.spyOn(Worker.prototype, 'postMessage')
    const slots = t.coordinator({ renewIn: 'thread', listen: false })
    await slots.limits.create('long-hold', { slots: 1 })
    const lease = await slots.acquire('long-hold', { ttlMs: 1000 })
    const before = await renewCalls()
    const expiresAt = lease.expiresAt.getTime()
    // Three ttls without a turn of this event loop: only the thread can keep the lease.
    block(3000)
    expect(lease.lost).toBe(false)
    expect(lease.expiresAt.getTime()).toBeGreaterThan(expiresAt + 1500)
    expect(await renewCalls()).toBeGreaterThanOrEqual(before + 4)
    expect(postedBesidesOpen(posted)).toEqual([])
    expect(await lease.release()).toBe(true)
    const released = await renewCalls()
    await sleep(1000)
    expect(await renewCalls()).toBe(released)
  })

  it('wakes, while it sleeps until a later renewal, for a lease due sooner, and renews it while the holder blocks', async () => {
    const slots = t.coordinator({ renewIn: 'thread', listen: false })
    await slots.limits.create('long-first', { slots: 1 })
    await slots.limits.create('short-then', { slots: 1 })
    // First renewal 20 s away: the thread sleeps its longest (idleScanMs).
    const long = await slots.acquire('long-first', { ttlMs: 60_000 })
    await sleep(100)
    const before = await renewCalls()
    const short = await slots.acquire('short-then', { ttlMs: 600 })
    // Its first renewal is due in 200 ms, long before the thread would look again: only the
    // alarm the holder rang brings the thread in time while this event loop is blocked.
    block(1500)
    expect(short.lost).toBe(false)
    expect(await renewCalls()).toBeGreaterThanOrEqual(before + 3)
    expect(await short.release()).toBe(true)
    expect(await long.release()).toBe(true)
  })

  it('grows its table past one segment (256 slots) and renews every lease in it', async () => {
    const slots = t.coordinator({ renewIn: 'thread', listen: false })
    await slots.limits.create('many', { slots: 600 })
    const before = await renewCalls()
    const leases = []
    for (let i = 0; i < 600; i++) leases.push(await slots.acquire('many', { ttlMs: 3000 }))
    // Past the first renewal (ttl/3) of the last of them.
    await sleep(1500)
    expect(leases.filter((l) => l.lost)).toEqual([])
    expect(await renewCalls()).toBeGreaterThanOrEqual(before + 600)
    const [row] = await t.query<{ n: string }>('SELECT count(*) AS n FROM leases WHERE expires_at > clock_timestamp()')
    expect(Number(row!.n)).toBe(600)
    expect(await Promise.all(leases.map((l) => l.release()))).toEqual(leases.map(() => true))
  })
})
