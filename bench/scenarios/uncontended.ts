import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { Coordinator } from '../../src/index.js'
import { callFunctionRow, interval } from '../../src/sql/call-function.js'
import { round } from '../stats.js'

export interface UncontendedResult {
  loops: number
  rawCyclesPerSecond: number
  pgslotsCyclesPerSecond: number
  ratio: number
  /** With 1 loop: the same SQL function calls made directly (null with more loops, where they would wait on the row lock). */
  directCyclesPerSecond: number | null
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
  await slots.limits.upsert('bench:uncontended', { slots: 1_000_000 })
  const direct = loops === 1 ? await runLoops(1, seconds / 2, directCycle(pool, slots.schema, 'bench:uncontended')) : null
  await pool.end()
  const ours = await runLoops(loops, seconds, async () => {
    const lease = await slots.acquire('bench:uncontended', { ttlMs: 30_000 })
    await lease.release()
  })
  return {
    loops,
    rawCyclesPerSecond: round(raw, 0),
    pgslotsCyclesPerSecond: round(ours, 0),
    ratio: round(ours / raw, 3),
    directCyclesPerSecond: direct === null ? null : round(direct, 0),
  }
}

/**
 * One cycle of what pgslots asks the database, without pgslots' client around it: the same
 * named statements (callFunctionRow) with the arguments acquire() and release() send, but
 * no listener pid (the acquire grants at once, so none is needed). Next to pgslots' own
 * cycles/s it splits a cycle into the SQL functions' share and the client's.
 */
function directCycle(pool: pg.Pool, schema: string, limit: string): () => Promise<void> {
  const holder = JSON.stringify({ pid: process.pid })
  return async () => {
    const args = [[limit], 1, interval(30_000), holder, true, false, interval(15_000), null, randomUUID(), 0]
    const row = await callFunctionRow<{ lease_id: string | null }>(pool, schema, 'acquire', args)
    if (!row.lease_id) throw new Error(`bench: no lease on ${limit}`)
    await callFunctionRow(pool, schema, 'release_with_grants', [row.lease_id, null])
  }
}
