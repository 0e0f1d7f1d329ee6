import pg from 'pg'
import type { Coordinator } from '../../src/index.js'
import { round } from '../stats.js'

export interface UncontendedResult {
  loops: number
  rawCyclesPerSecond: number
  pgslotsCyclesPerSecond: number
  ratio: number
}

async function runLoops(loops: number, seconds: number, cycle: () => Promise<void>): Promise<number> {
  const end = performance.now() + seconds * 1000
  let cycles = 0
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        await cycle()
        cycles++
      }
    }),
  )
  return cycles / seconds
}

/**
 * The physical limit: acquire+release as the minimal raw SQL on one hot row (two
 * statements, like pgslots' two calls), against pgslots' acquire()+release() on one limit.
 */
export async function uncontended(url: string, slots: Coordinator, loops: number, seconds: number): Promise<UncontendedResult> {
  const pool = new pg.Pool({ connectionString: url, max: loops })
  await pool.query('CREATE TABLE IF NOT EXISTS bench_hot (name text PRIMARY KEY, used int NOT NULL, slots int NOT NULL)')
  await pool.query("INSERT INTO bench_hot VALUES ('hot', 0, 1000000) ON CONFLICT (name) DO UPDATE SET used = 0")
  const raw = await runLoops(loops, seconds, async () => {
    await pool.query("UPDATE bench_hot SET used = used + 1 WHERE name = 'hot' AND used < slots RETURNING used")
    await pool.query("UPDATE bench_hot SET used = used - 1 WHERE name = 'hot'")
  })
  await pool.end()
  await slots.limits.upsert('bench:uncontended', { slots: 1_000_000 })
  const ours = await runLoops(loops, seconds, async () => {
    const lease = await slots.acquire('bench:uncontended', { ttlMs: 30_000 })
    await lease.release()
  })
  return { loops, rawCyclesPerSecond: round(raw, 0), pgslotsCyclesPerSecond: round(ours, 0), ratio: round(ours / raw, 3) }
}
