import { describe, expect, it } from 'vitest'
import { runWorker, startWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

interface Event {
  acquiredAt?: string
  busyEndedAt?: string
  grantedAt?: string
  token?: string
  lost?: boolean
  reason?: string | null
  released?: boolean
}

const t = useTestSchema()

const field = <K extends keyof Event>(events: Event[], key: K): NonNullable<Event[K]> =>
  events.find((e) => e[key] !== undefined)![key]!

/**
 * One process takes the one slot of `name` (ttl 1 s) and blocks its event loop for 3.5 s;
 * another process asks for the slot once the holder is busy.
 */
async function blockedHolderAndWaiter(name: string, renewIn: 'thread' | 'event-loop') {
  await t.coordinator().limits.create(name, { slots: 1 })
  const job = { url: t.url, schema: t.schema, name, ttlMs: 1000, busyMs: 3500, renewIn }
  const holder = await startWorker<Event>('blocked-holder', { ...job, role: 'holder' })
  const waiter = runWorker<Event>('blocked-holder', { ...job, role: 'waiter' })
  return { holder, waiter }
}

describe('a holder whose event loop is blocked', () => {
  it('keeps its slot while the process lives (renewer thread): nobody else gets it before the work ends', async () => {
    const { holder, waiter } = await blockedHolderAndWaiter('blocked-thread', 'thread')
    const [held, waited] = await Promise.all([holder.exited, waiter])
    // Both clocks are CLOCK_MONOTONIC, comparable across processes.
    expect(BigInt(field(waited, 'grantedAt'))).toBeGreaterThan(BigInt(field(held, 'busyEndedAt')))
    expect(field(held, 'lost')).toBe(false)
    expect(field(held, 'released')).toBe(true)
    expect(BigInt(field(waited, 'token'))).toBeGreaterThan(BigInt(holder.first.token!))
  })

  it('renewing on the event loop instead, the lease is lost and the holder learns it as soon as its loop runs', async () => {
    const { holder, waiter } = await blockedHolderAndWaiter('blocked-loop', 'event-loop')
    const [held, waited] = await Promise.all([holder.exited, waiter])
    // The failure the renewer thread prevents: the slot went to the waiter mid-work.
    expect(BigInt(field(waited, 'grantedAt'))).toBeLessThan(BigInt(field(held, 'busyEndedAt')))
    expect(field(held, 'lost')).toBe(true)
    expect(field(held, 'reason')).toMatch(/lease lost/)
    expect(field(held, 'released')).toBe(false)
  })

  it('gives the slot back at the ttl when the blocked holder is killed (the renewer thread dies with it)', async () => {
    await t.coordinator().limits.create('blocked-killed', { slots: 1 })
    const job = { url: t.url, schema: t.schema, name: 'blocked-killed', ttlMs: 1000, busyMs: 60_000, renewIn: 'thread' }
    const holder = await startWorker<Event>('blocked-holder', { ...job, role: 'holder' })
    const waiter = runWorker<Event>('blocked-holder', { ...job, role: 'waiter' })
    await until(
      async () => (await t.query(`SELECT 1 FROM waiting WHERE 'blocked-killed' = ANY(names)`)).length === 1,
      'the waiter queues',
    )
    await holder.kill('SIGKILL')
    const waited = await waiter
    expect(field(waited, 'released')).toBe(true)
    const [ended] = await t.query<{ kind: string }>(
      `SELECT kind FROM history WHERE fencing_token = $1`,
      [holder.first.token],
    )
    // Expired, not released: the renewals stopped with the process, and the ttl ran out.
    expect(ended?.kind).toBe('expired')
  })
})
