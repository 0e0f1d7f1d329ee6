import pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { Coordinator } from '../../src/index.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// PostgreSQL wakes every listening backend of a database at each commit that notifies, so
// the coordinators of one process share one LISTEN connection when their connection
// settings and schema are the same. Polling is set to a minute: grants that arrive sooner
// came by NOTIFY.
describe('the coordinators of a process', () => {
  const t = useTestSchema()

  /** Queues a request of `slots` on `name` (held by `holder`); its waiter row's listener pid. */
  async function queued(slots: Coordinator, holder: Coordinator, name: string) {
    await holder.limits.create(name, { slots: 1 })
    const held = await holder.acquire(name)
    const pending = slots.acquire(name, { timeoutMs: 10_000 })
    await until(async () => (await t.count('waiters WHERE queue = $1 AND listener_pid IS NOT NULL', [name])) === 1, `${name} queued, listening`)
    const [row] = await t.query<{ pid: number }>('SELECT listener_pid AS pid FROM waiters WHERE queue = $1', [name])
    return { held, pending, pid: row!.pid }
  }

  const listening = async (pid: number) => (await t.count('pg_stat_activity WHERE pid = $1', [pid])) === 1
  /** The test schema's URL with settings of its own: no other coordinator shares them. */
  const urlNamed = (name: string) => `${t.url}${t.url.includes('?') ? '&' : '?'}application_name=${name}`

  it('share one listening connection, each hearing its own grants, until the last one closes', async () => {
    const holder = t.coordinator({ listen: false })
    const [a, b, c] = [0, 1, 2].map(() => t.coordinator({ pollIntervalMs: 60_000, connectionString: urlNamed('share') }))
    const waits = [await queued(a!, holder, 'share-a'), await queued(b!, holder, 'share-b'), await queued(c!, holder, 'share-c')]
    expect(new Set(waits.map((w) => w.pid)).size).toBe(1)
    // Each grant reaches the coordinator that waits for it.
    for (const w of waits.slice(0, 2)) {
      await w.held.release()
      await (await w.pending).release()
    }
    await a!.close()
    await b!.close()
    // The last one still hears its grant on the shared connection.
    expect(await listening(waits[2]!.pid)).toBe(true)
    await waits[2]!.held.release()
    await (await waits[2]!.pending).release()
    await c!.close()
    await until(async () => !(await listening(waits[2]!.pid)), 'the listening connection closed with the last coordinator')
  })

  it('listen on a pool of your own whose password is a setting of its own (pg-pool hides it from enumeration)', async () => {
    const url = new URL(t.url)
    const pool = new pg.Pool({ host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1), max: 2 })
    try {
      const holder = t.coordinator({ listen: false })
      const own = t.coordinator({ pool, pollIntervalMs: 60_000 })
      const w = await queued(own, holder, 'own-pool')
      expect(await listening(w.pid)).toBe(true)
      await w.held.release()
      await (await w.pending).release()
      await own.close()
    } finally {
      await pool.end()
    }
  })

  it('listen apart when their connection settings differ', async () => {
    const holder = t.coordinator({ listen: false })
    const one = t.coordinator({ pollIntervalMs: 60_000, connectionString: urlNamed('one') })
    const other = t.coordinator({ pollIntervalMs: 60_000, connectionString: urlNamed('other') })
    const first = await queued(one, holder, 'apart-1')
    const second = await queued(other, holder, 'apart-2')
    expect(first.pid).not.toBe(second.pid)
    for (const w of [first, second]) {
      await w.held.release()
      await (await w.pending).release()
    }
  })
})
