// Time the limit row is locked per cycle: the database time of one
// acquire and one release, from pg_stat_statements. Cycles run one at a time, so no call
// waits for a lock and the time is all work done while holding it (plus the few checks
// before it). A contended cycle is what every waiter of a busy limit pays for: an acquire
// that queues, and a release that hands the slot to the head of the queue (liveness
// check, grant, NOTIFY to a listening process). An uncontended cycle takes a free slot and
// gives it back.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { listenerChannel, listenerLockKey, takeListenerLock } from '../../src/wait/wire-protocol.js'
import { round } from '../stats.js'

export interface LockedTimeResult {
  contendedCycleMs: number
  uncontendedCycleMs: number
  /** The costliest statements inside a contended cycle: ms per cycle. */
  topStatements: Array<{ statement: string; msPerCycle: number }>
}

async function statementTimes(client: pg.Client): Promise<Array<{ query: string; toplevel: boolean; ms: number }>> {
  const { rows } = await client.query(
    `SELECT query, toplevel, total_exec_time AS ms FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  )
  return rows as Array<{ query: string; toplevel: boolean; ms: number }>
}

export async function lockedTime(url: string, schema: string, cycles: number): Promise<LockedTimeResult> {
  const listener = new pg.Client({ connectionString: url })
  const worker = new pg.Client({ connectionString: url })
  await Promise.all([listener.connect(), worker.connect()])
  try {
    // A live listening process, as the waiters' grants expect.
    const pid = Number((await listener.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)
    await listener.query(takeListenerLock, [listenerLockKey(schema), pid])
    await listener.query(`LISTEN "${listenerChannel(pid)}"`)
    // Nested statements too, for the breakdown (needs a superuser; else the server's setting).
    await worker.query("SET pg_stat_statements.track = 'all'").catch(() => {})
    const call = async (fn: string, args: unknown[]) =>
      (await worker.query(`SELECT * FROM "${schema}".${fn}(${args.map((_, i) => `$${i + 1}`).join(', ')})`, args)).rows[0]
    const acquire = (name: string) => call('acquire', [[name], 1, '30 seconds', '"bench"', true, false, '15 seconds', pid, randomUUID()])
    await call('put_limit', ['bench:locked', 1, null, null, 'upsert'])
    await call('put_limit', ['bench:locked-free', 1_000_000, null, null, 'upsert'])

    const measure = async (cycle: () => Promise<void>) => {
      await worker.query('SELECT pg_stat_statements_reset()')
      for (let i = 0; i < cycles; i++) await cycle()
      return statementTimes(worker)
    }
    let held = (await acquire('bench:locked')).lease_id as string
    const contended = await measure(async () => {
      const queued = await acquire('bench:locked')
      if (queued.status !== 'waiting') throw new Error(`expected to queue, got ${queued.status}`)
      await call('release', [held])
      held = queued.waiter_id as string // granted in the release: the lease has the waiter's id
    })
    await call('release', [held])
    const uncontended = await measure(async () => {
      const lease = await acquire('bench:locked-free')
      await call('release', [lease.lease_id])
    })
    const cycleMs = (rows: Awaited<ReturnType<typeof statementTimes>>) =>
      rows.filter((r) => r.toplevel && /\.(acquire|release)\(/.test(r.query)).reduce((sum, r) => sum + r.ms, 0) / cycles
    return {
      contendedCycleMs: round(cycleMs(contended), 3),
      uncontendedCycleMs: round(cycleMs(uncontended), 3),
      topStatements: contended
        .filter((r) => !r.toplevel)
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 8)
        .map((r) => ({ statement: r.query.replace(/\s+/g, ' ').slice(0, 120), msPerCycle: round(r.ms / cycles, 4) })),
    }
  } finally {
    await Promise.allSettled([listener.end(), worker.end()])
  }
}
