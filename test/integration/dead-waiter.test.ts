import { beforeAll, describe, expect, it } from 'vitest'
import type { Coordinator } from '../../src/index.js'
import { startWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

describe('a waiter whose process died', () => {
  const t = useTestSchema()
  let slots: Coordinator
  beforeAll(() => {
    slots = t.coordinator()
  })

  it('is cancelled by the next grant, not granted, and does not block the line until its heartbeat runs out', async () => {
    await slots.limits.create('line', { slots: 1 })
    const held = await slots.acquire('line')
    const child = await startWorker('slot-worker', { url: t.url, schema: t.schema, action: 'queue', names: ['line'], count: 1, label: 'doomed' })
    // Its first heartbeat records the pid of its LISTEN connection.
    await until(async () => (await t.query(`SELECT 1 FROM waiters WHERE listener_pid IS NOT NULL`)).length === 1, 'the listening pid')
    const [doomed] = await t.query<{ listener_pid: number }>('SELECT listener_pid FROM waiters')
    await child.kill('SIGKILL')
    await until(async () => (await t.query('SELECT 1 FROM pg_stat_get_activity($1)', [doomed!.listener_pid])).length === 0, 'the backend to exit')
    const [before] = await t.query<{ expires_at: Date }>('SELECT expires_at FROM waiters')

    const next = slots.acquire('line', { holder: 'next in line', timeoutMs: 30_000 })
    await until(async () => (await t.query('SELECT 1 FROM waiters')).length === 2, 'the second waiter')
    await held.release()
    const lease = await next

    const events = await t.query<{ kind: string; holder: string; at: Date }>(
      `SELECT kind, holder #>> '{}' AS holder, at FROM events WHERE kind IN ('acquired', 'cancelled') AND at > $1 ORDER BY at`,
      [new Date(Date.now() - 60_000)],
    )
    const granted = events.find((e) => e.kind === 'acquired' && e.holder === 'next in line')
    expect(events.filter((e) => e.holder === 'doomed').map((e) => e.kind)).toEqual(['cancelled'])
    // Granted while the dead waiter's heartbeat would still have kept its place.
    expect(granted!.at.getTime()).toBeLessThan(before!.expires_at.getTime())
    await lease.release()
    expect(await t.query('SELECT * FROM waiters')).toEqual([])
  })
})
