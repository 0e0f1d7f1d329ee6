// Scale: many waiters on one limit over 4 processes (database calls
// per grant must not grow with the queue), and acquire latency with 100,000 limits and
// 100,000 live leases against the 10-limit case.
import pg from 'pg'
import { Coordinator } from '../../src/index.js'
import { percentile, round } from '../stats.js'
import { contentionMultiProcess } from './contention.js'

export interface WaitersResult {
  waiters: number
  processes: number
  dbCallsPerGrant: number
  acquisitionsPerSecond: number
}

/** `waiters` one-shot acquisitions queued at once on a limit of 4 slots, over `processes` processes. */
export async function manyWaiters(url: string, schema: string, slots: Coordinator, waiters: number, processes = 4): Promise<WaitersResult> {
  const limit = `bench:waiters-${waiters}`
  await slots.limits.upsert(limit, { slots: 4 })
  const r = await contentionMultiProcess('pgslots', { system: 'pgslots', url, schema, limit, rounds: 1 }, { loops: waiters, slots: 4, holdMs: 1, seconds: 120 }, processes)
  return { waiters, processes, dbCallsPerGrant: r.dbCallsPerAcquisition, acquisitionsPerSecond: r.acquisitionsPerSecond }
}

export interface LatencyResult {
  limits: number
  liveLeases: number
  acquireReleaseP50Ms: number
  acquireReleaseP99Ms: number
}

async function cycleLatency(slots: Coordinator, name: string, seconds: number): Promise<number[]> {
  await slots.limits.upsert(name, { slots: 10 })
  const samples: number[] = []
  const end = performance.now() + seconds * 1000
  while (performance.now() < end) {
    const t = performance.now()
    const lease = await slots.acquire(name, { ttlMs: 30_000 })
    await lease.release()
    samples.push(performance.now() - t)
  }
  return samples
}

/** Acquire+release latency with 10 limits, then with `count` limits each holding a live lease. */
export async function manyLimits(url: string, count: number, seconds: number): Promise<LatencyResult[]> {
  const schema = 'pgslots_bench_scale'
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  const slots = new Coordinator({ connectionString: url, schema, reaper: false })
  try {
    await slots.migrate()
    await admin.query(`SET search_path = ${schema}`)
    await admin.query(`INSERT INTO limits (name, slots) SELECT 'scale:' || i, 2 FROM generate_series(1, 9) AS i`)
    const small = await cycleLatency(slots, 'scale:probe', seconds)
    await admin.query(`INSERT INTO limits (name, slots) SELECT 'scale:' || i, 2 FROM generate_series(10, $1) AS i`, [count - 1])
    // The state is written in bulk (the same rows acquire() writes): what is measured is
    // the acquire that runs next to it.
    await admin.query(`INSERT INTO leases (id, names, counted, occupy, holder, ttl, asked_at, acquired_at, expires_at, fencing_token)
      SELECT gen_random_uuid(), ARRAY['scale:' || i], ARRAY['scale:' || i], 1, '"bench"', '2 hours', now(), now(),
        now() + interval '2 hours', _next_fencing_token()
      FROM generate_series(1, $1) AS i`, [count - 1])
    await admin.query(`UPDATE limits SET active_slots = 1 WHERE name <> 'scale:probe'`)
    await admin.query('ANALYZE')
    const large = await cycleLatency(slots, 'scale:probe', seconds)
    const live = Number((await admin.query('SELECT count(*) AS n FROM leases')).rows[0].n)
    const row = (limits: number, liveLeases: number, samples: number[]): LatencyResult => ({
      limits,
      liveLeases,
      acquireReleaseP50Ms: round(percentile(samples, 50), 3),
      acquireReleaseP99Ms: round(percentile(samples, 99), 3),
    })
    return [row(10, 0, small), row(count, live, large)]
  } finally {
    await slots.close()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.end()
  }
}
