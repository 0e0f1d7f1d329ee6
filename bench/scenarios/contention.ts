import pg from 'pg'
import type { Coordinator } from '../../src/index.js'
import { committedTransactions, percentile, round } from '../stats.js'

export interface ContentionResult {
  system: string
  acquisitionsPerSecond: number
  utilisation: number
  handoffP50Ms: number
  handoffP99Ms: number
  waitP99Ms: number
  waitMaxMs: number
  /** max wait ÷ fair share (loops × hold ÷ slots) */
  maxWaitOverFairShare: number
  dbCallsPerAcquisition: number
}

export interface ContentionSetup {
  loops: number
  slots: number
  holdMs: number
  seconds: number
}

interface Semaphore {
  acquire(): Promise<() => Promise<void>>
}

/** Runs `loops` workers that take a slot, hold it `holdMs`, release it, for `seconds`. */
async function drive(name: string, url: string, sem: Semaphore, s: ContentionSetup): Promise<ContentionResult> {
  const stats = new pg.Client({ connectionString: url })
  await stats.connect()
  const txBefore = await committedTransactions((q) => stats.query(q))
  const waits: number[] = []
  const handoffs: number[] = []
  const releases: number[] = [] // release start times not yet matched to a grant
  let held = 0
  const start = performance.now()
  const end = start + s.seconds * 1000
  await Promise.all(
    Array.from({ length: s.loops }, async () => {
      while (performance.now() < end) {
        const asked = performance.now()
        const release = await sem.acquire()
        const got = performance.now()
        waits.push(got - asked)
        // The slot this waiter got was freed by the oldest release not yet matched to a grant.
        const freedAt = got - asked > 0.5 ? releases.shift() : undefined
        if (freedAt !== undefined) handoffs.push(got - freedAt)
        await new Promise((r) => setTimeout(r, s.holdMs))
        releases.push(performance.now())
        held += performance.now() - got
        await release()
      }
    }),
  )
  const elapsed = performance.now() - start
  const txAfter = await committedTransactions((q) => stats.query(q))
  await stats.end()
  const fairShare = (s.loops * s.holdMs) / s.slots
  return {
    system: name,
    acquisitionsPerSecond: round(waits.length / (elapsed / 1000), 0),
    utilisation: round(held / (elapsed * s.slots), 3),
    handoffP50Ms: round(percentile(handoffs, 50)),
    handoffP99Ms: round(percentile(handoffs, 99)),
    waitP99Ms: round(percentile(waits, 99)),
    waitMaxMs: round(Math.max(...waits)),
    maxWaitOverFairShare: round(Math.max(...waits) / fairShare),
    dbCallsPerAcquisition: round((txAfter - txBefore - 2) / waits.length),
  }
}

export async function contentionPgslots(url: string, slots: Coordinator, s: ContentionSetup): Promise<ContentionResult> {
  await slots.limits.upsert('bench:contention', { slots: s.slots })
  return drive('pgslots', url, {
    async acquire() {
      const lease = await slots.acquire('bench:contention', { ttlMs: 30_000 })
      return async () => void (await lease.release())
    },
  }, s)
}

/** The naive peer: a counter row, UPDATE … WHERE used < slots, retried every 10 ms. */
export async function contentionNaivePolling(url: string, s: ContentionSetup): Promise<ContentionResult> {
  const pool = new pg.Pool({ connectionString: url, max: s.loops })
  await pool.query('CREATE TABLE IF NOT EXISTS bench_naive (name text PRIMARY KEY, used int NOT NULL, slots int NOT NULL)')
  await pool.query(
    "INSERT INTO bench_naive VALUES ('naive', 0, $1) ON CONFLICT (name) DO UPDATE SET used = 0, slots = $1",
    [s.slots],
  )
  try {
    return await drive('naive polling (10 ms)', url, {
      async acquire() {
        for (;;) {
          const r = await pool.query("UPDATE bench_naive SET used = used + 1 WHERE name = 'naive' AND used < slots")
          if (r.rowCount === 1) return async () => void (await pool.query("UPDATE bench_naive SET used = used - 1 WHERE name = 'naive'"))
          await new Promise((r) => setTimeout(r, 10))
        }
      },
    }, s)
  } finally {
    await pool.end()
  }
}
