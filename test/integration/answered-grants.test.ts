import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Coordinator } from '../../src/index.js'
import { isGrantFor, listenerChannel, listenerLockKey, parseNotification, takeListenerLock } from '../../src/wait/wire-protocol.js'
import { spiedPool } from '../helpers/spied-pool.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// A release made by the process whose waiter it grants answers the grant to that process
// instead of notifying it: same payload, same check, no NOTIFY. Everybody else's waiters
// are notified as before, also by later calls in the same transaction.
describe('grants answered to the releasing process', () => {
  const pools: pg.Pool[] = []
  // Registered before the schema, so it runs after the schema's cleanup closed the coordinators using them.
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()))
  })
  const t = useTestSchema()
  const clients: pg.Client[] = []
  let owner: Coordinator
  beforeAll(() => {
    owner = t.coordinator()
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()))
  })

  /** A connection that listens as a waiting process does: its lock taken, LISTEN on its channel, payloads kept. */
  async function listening(pid?: number) {
    const client = new pg.Client({ connectionString: t.url })
    clients.push(client)
    await client.connect()
    const own = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)
    const channel = listenerChannel(pid ?? own)
    if (pid === undefined) await client.query(takeListenerLock, [listenerLockKey(t.schema), own])
    const payloads: string[] = []
    client.on('notification', (m) => m.channel === channel && payloads.push(m.payload ?? ''))
    await client.query(`LISTEN "${channel}"`)
    return {
      pid: pid ?? own,
      /** The payloads heard up to a marker notified now (NOTIFYs arrive in commit order). */
      async heardSoFar(): Promise<string[]> {
        const marker = `marker-${randomUUID()}`
        await t.query('SELECT pg_notify($1, $2)', [channel, marker])
        await until(async () => payloads.includes(marker), 'the marker to arrive')
        return payloads.splice(0).filter((p) => p !== marker)
      },
    }
  }

  async function holdAndQueue(name: string, listenerPid: number) {
    await owner.limits.create(name, { slots: 1 })
    const acquire = (wait: boolean, id: string) =>
      t.query<{ status: string; lease_id: string; ticket: string }>(
        `SELECT * FROM acquire($1, 1, '30 seconds', '{}', $2, false, '15 seconds', $3, $4)`,
        [[name], wait, wait ? listenerPid : null, id],
      )
    const [held] = await acquire(false, randomUUID())
    const waiterId = randomUUID()
    const [queued] = await acquire(true, waiterId)
    expect(queued!.status).toBe('waiting')
    return { leaseId: held!.lease_id, waiterId, ticket: queued!.ticket }
  }

  it('answers the grant of a waiter of the given listener, checkable, and does not notify it', async () => {
    const listener = await listening()
    const { leaseId, waiterId, ticket } = await holdAndQueue('answered', listener.pid)

    const [answer] = await t.query<{ released: boolean; grants: string[] | null }>('SELECT * FROM release_with_grants($1, $2)', [
      leaseId,
      listener.pid,
    ])

    expect(answer!.released).toBe(true)
    expect(answer!.grants).toHaveLength(1)
    const { ticket: granted, grant } = parseNotification(answer!.grants![0]!)
    expect(granted).toBe(ticket)
    expect(isGrantFor(grant!, ticket, waiterId)).toBe(true)
    const [lease] = await t.query<{ fencing_token: string }>('SELECT fencing_token FROM leases WHERE id = $1', [waiterId])
    expect(lease!.fencing_token).toBe(grant!.fencingToken)
    expect(await listener.heardSoFar()).toEqual([])
  })

  it('notifies waiters of other listeners, and answers nothing', async () => {
    const listener = await listening()
    const other = await listening()
    const { leaseId, waiterId, ticket } = await holdAndQueue('notified', listener.pid)

    const [answer] = await t.query<{ released: boolean; grants: string[] | null }>('SELECT * FROM release_with_grants($1, $2)', [
      leaseId,
      other.pid,
    ])

    expect(answer).toEqual({ released: true, grants: null })
    const heard = await listener.heardSoFar()
    expect(heard).toHaveLength(1)
    expect(isGrantFor(parseNotification(heard[0]!).grant!, ticket, waiterId)).toBe(true)
    expect(await other.heardSoFar()).toEqual([])
  })

  it('leaves later calls in the same transaction notifying as usual', async () => {
    const listener = await listening()
    const first = await holdAndQueue('same-transaction-1', listener.pid)
    const second = await holdAndQueue('same-transaction-2', listener.pid)

    const client = await t.sql.connect()
    try {
      await client.query(`BEGIN; SET LOCAL search_path = "${t.schema}"`)
      const answered = await client.query('SELECT * FROM release_with_grants($1, $2)', [first.leaseId, listener.pid])
      await client.query('SELECT release($1)', [second.leaseId])
      await client.query('COMMIT')
      expect(answered.rows[0].grants).toHaveLength(1)
    } finally {
      client.release()
    }

    const heard = await listener.heardSoFar()
    expect(heard.map((p) => parseNotification(p).ticket)).toEqual([second.ticket])
  })

  it('hands a waiter of another coordinator in the process its lease with the release: no NOTIFY, no round trip', async () => {
    const waiter = t.coordinator()
    await owner.limits.create('in-process', { slots: 1 })
    const held = await owner.acquire('in-process')
    let settled = false
    const pending = waiter.acquire('in-process', { timeoutMs: 20_000 }).finally(() => (settled = true))
    await until(async () => (await t.count("waiters WHERE queue = 'in-process' AND listener_pid IS NOT NULL")) === 1, 'the waiter to queue')
    const [row] = await t.query<{ listener_pid: number }>("SELECT listener_pid FROM waiters WHERE queue = 'in-process'")
    const overheard = await listening(row!.listener_pid)

    expect(await held.release()).toBe(true)
    // Settled within this turn of the event loop: no answer from the database was needed.
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(true)
    const lease = await pending
    expect(lease.lost).toBe(false)
    const [granted] = await t.query<{ fencing_token: string }>("SELECT fencing_token FROM leases WHERE names = '{in-process}'")
    expect(BigInt(granted!.fencing_token)).toBe(lease.fencingToken)
    expect(await overheard.heardSoFar()).toEqual([])
    expect(await lease.release()).toBe(true)
  })

  it('still gets a waiter its lease when the release answer carrying its grant is lost', async () => {
    const spied = spiedPool(t.url)
    pools.push(spied.pool)
    const slots = t.coordinator({ pool: spied.pool })
    await owner.limits.create('lost-answer', { slots: 1 })
    const held = await slots.acquire('lost-answer')
    const pending = slots.acquire('lost-answer', { timeoutMs: 20_000 })
    await until(async () => (await t.count("waiters WHERE queue = 'lost-answer' AND listener_pid IS NOT NULL")) === 1, 'the waiter to queue')
    const [row] = await t.query<{ listener_pid: number }>("SELECT listener_pid FROM waiters WHERE queue = 'lost-answer'")
    const overheard = await listening(row!.listener_pid)

    spied.loseAnswerOfNext('release_with_grants')
    await expect(held.release()).rejects.toThrow()
    const lease = await pending

    expect(spied.lost()).toBe(1)
    // Found by its poll: the grant was in the lost answer, not in a NOTIFY.
    expect(await overheard.heardSoFar()).toEqual([])
    const [granted] = await t.query<{ fencing_token: string }>("SELECT fencing_token FROM leases WHERE names = '{lost-answer}'")
    expect(BigInt(granted!.fencing_token)).toBe(lease.fencingToken)
    expect(await lease.release()).toBe(true)
  })
})
