// npm run bench: the performance scenarios side by side with the physical limit and peers.
// Uses DATABASE_URL, or starts an embedded PostgreSQL; redis-semaphore runs against a
// redis-server of its own (skipped with a message where it is not installed).
// Writes docs/results/bench.{json,md} and bench-chart.svg (the latest run only). BENCH_RUNS (3), BENCH_SECONDS (10).
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { startEmbeddedPostgres } from '../src/demo/embedded-postgres.js'
import { Coordinator } from '../src/index.js'
import { contentionChart } from './chart.js'
import { findServerCpu, processTreeCpuMs } from './machine-cpu.js'
import { type BenchResult, markdown } from './report.js'
import { type ContentionResult, type ContentionSetup, contentionInProcess, contentionMultiProcess } from './scenarios/contention.js'
import { type CrashResult, crashHandoff } from './scenarios/crash.js'
import { startFleet } from './scenarios/fleet.js'
import { type LockedTimeResult, lockedTime } from './scenarios/locked-time.js'
import { type RenewerResult, renewerCost } from './scenarios/renewer.js'
import { type WaitersResult, manyLimits, manyWaiters } from './scenarios/scale.js'
import { type UncontendedResult, uncontended } from './scenarios/uncontended.js'
import { SYSTEM_LABELS, type SystemName, naiveSemaphore, pgslotsSemaphore, redisSemaphore, resetNaive, startRedis } from './semaphores.js'
import { median, round } from './stats.js'

const runs = Number(process.env.BENCH_RUNS ?? 3)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const resultsDir = fileURLToPath(new URL('../../docs/results/', import.meta.url))
const SCHEMA = 'pgslots_bench'

/** Field-wise median of several runs of one scenario. */
function medianOf<T extends object>(rows: T[]): T {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(rows[0]!)) {
    const values = rows.map((r) => (r as Record<string, unknown>)[key])
    const numbers = values.filter((v): v is number => typeof v === 'number')
    // A measure that some runs could not take (null: n/a) is the median of those that did.
    out[key] = numbers.length > 0 ? round(median(numbers), 3) : values[0]
  }
  return out as T
}

const group = <T>(map: Map<string, T[]>, key: string, value: T) => map.set(key, [...(map.get(key) ?? []), value])

export interface FleetResult {
  fleetSize: number
  aloneAcquisitionsPerSecond: number
  fleetAcquisitionsPerSecond: number
  ratio: number
  fleetHandoffP50Ms: number
}

/** The in-process contention scenario alone, then beside 50 waiting coordinators in 5 processes. */
async function fleetBeside(url: string, slots: Coordinator, setup: ContentionSetup, run: number): Promise<FleetResult> {
  const limit = `bench:fleet-contention-${run}`
  await slots.limits.upsert(limit, { slots: setup.slots })
  const alone = await contentionInProcess('pgslots', url, pgslotsSemaphore(slots, limit), setup)
  const fleet = await startFleet(url, SCHEMA, 50, 5, `${process.pid}-${run}`)
  try {
    const beside = await contentionInProcess('pgslots', url, pgslotsSemaphore(slots, limit), setup)
    return {
      fleetSize: 50,
      aloneAcquisitionsPerSecond: alone.acquisitionsPerSecond,
      fleetAcquisitionsPerSecond: beside.acquisitionsPerSecond,
      ratio: round(beside.acquisitionsPerSecond / alone.acquisitionsPerSecond, 3),
      fleetHandoffP50Ms: beside.handoffP50Ms,
    }
  } finally {
    await fleet.stop()
  }
}

async function main() {
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        // Durable, like production and like the peers: every commit is flushed before its answer.
        settings: {
          fsync: 'on',
          full_page_writes: 'on',
          synchronous_commit: 'on',
          shared_preload_libraries: 'pg_stat_statements',
          // Top-level statements count database calls; the locked-time scenario turns on
          // nested statements for its own session (tracking each one costs time, and no
          // other scenario should pay for it).
          'pg_stat_statements.track': 'top',
        },
      })
  const loadAtStart = loadavg()[0]!
  const url = process.env.DATABASE_URL ?? embedded!.url
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
  // Database calls are counted with pg_stat_statements where it is loaded.
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').catch(() => {})
  const postgres = (await admin.query('SHOW server_version')).rows[0].server_version as string
  const show = async (name: string) => (await admin.query(`SHOW ${name}`)).rows[0][name] as string
  const durability = `fsync=${await show('fsync')}, synchronous_commit=${await show('synchronous_commit')}, full_page_writes=${await show('full_page_writes')}`
  await admin.end()
  // Machine CPU per contended acquisition: the cluster's processes, when they run on this machine.
  const postgresCpu = await findServerCpu(url)
  const slots = new Coordinator({ connectionString: url, schema: SCHEMA, maxConnections: 20, reaper: true })
  await slots.migrate()
  const redis = await startRedis()
  const skipped = 'missing' in redis ? [redis.missing] : []
  const systems: SystemName[] = ['pgslots', 'naive', ...('missing' in redis ? [] : (['redis'] as const))]
  console.log(`PostgreSQL ${postgres} (${durability}); ${runs} runs of ${seconds}s per scenario; ${skipped.join('') || 'redis-server found'}`)
  const serverCpuOf = (system: SystemName) => (system === 'redis' ? () => processTreeCpuMs((redis as { pid: number }).pid) : postgresCpu.readMs)
  const serverCpuNote =
    postgresCpu.postmasterPid === null
      ? 'the PostgreSQL server does not run on this machine (or its processes cannot be read here): server CPU n/a'
      : `the postmaster (pid ${postgresCpu.postmasterPid}) and all its children (backends, walwriter, checkpointer, autovacuum, …)`
  console.log(`server CPU: ${serverCpuNote}`)

  const setup: ContentionSetup = { loops: 64, slots: 4, holdMs: 5, seconds }
  const uncontendedRuns = new Map<string, UncontendedResult[]>()
  const contentionRuns = new Map<string, ContentionResult[]>()
  const crashRuns: CrashResult[] = []
  const waiterRuns = new Map<string, WaitersResult[]>()
  const lockedRuns: LockedTimeResult[] = []
  const fleetRuns: FleetResult[] = []
  const renewerRuns = new Map<string, RenewerResult[]>()
  for (let run = 1; run <= runs; run++) {
    lockedRuns.push(await lockedTime(url, SCHEMA, 2000))
    console.log(`run ${run} locked time`, lockedRuns.at(-1))
    for (const loops of [1, 4, 16]) {
      const r = await uncontended(url, slots, loops, Math.max(2, seconds / 2))
      group(uncontendedRuns, String(loops), r)
      console.log(`run ${run} uncontended`, r)
    }
    for (const system of systems) {
      const limit = `bench:contention-${system}-${run}`
      if (system === 'pgslots') for (const name of [limit, `${limit}-mp`]) await slots.limits.upsert(name, { slots: setup.slots })
      if (system === 'naive') await resetNaive(url, setup.slots)
      const sem =
        system === 'pgslots'
          ? pgslotsSemaphore(slots, limit)
          : system === 'naive'
            ? await naiveSemaphore(url, setup.loops)
            : await redisSemaphore((redis as { port: number }).port, setup.slots, limit)
      const one = await contentionInProcess(SYSTEM_LABELS[system], url, sem, setup, serverCpuOf(system))
      await sem.close()
      if (system === 'naive') await resetNaive(url, setup.slots)
      const four = await contentionMultiProcess(
        SYSTEM_LABELS[system],
        { system, url, schema: SCHEMA, limit: `${limit}-mp`, redisPort: (redis as { port?: number }).port },
        setup,
        4,
        serverCpuOf(system),
      )
      for (const r of [one, four]) {
        group(contentionRuns, `${system}/${r.processes}`, r)
        console.log(`run ${run} contention`, r)
      }
    }
    fleetRuns.push(await fleetBeside(url, slots, setup, run))
    console.log(`run ${run} fleet`, fleetRuns.at(-1))
    crashRuns.push(await crashHandoff(url, SCHEMA, slots))
    console.log(`run ${run} crash`, crashRuns.at(-1))
    for (const mode of ['thread', 'event-loop'] as const) {
      const r = await renewerCost(url, SCHEMA, slots, mode, seconds)
      group(renewerRuns, mode, r)
      console.log(`run ${run} renewer`, r)
    }
    for (const waiters of [100, 1000]) {
      const r = await manyWaiters(url, SCHEMA, slots, waiters)
      group(waiterRuns, String(waiters), r)
      console.log(`run ${run} waiters`, r)
    }
  }
  const limits = await manyLimits(url, 100_000, Math.max(3, seconds / 2))
  console.log('limits', limits)

  const result: BenchResult = {
    at: new Date().toISOString(),
    postgres,
    durability,
    runs,
    machine: `${cpus().length} cores, Node ${process.version}`,
    // Other work on the machine slows every row: the 1-minute load average at the start and end.
    loadAverage: [round(loadAtStart, 2), round(loadavg()[0]!, 2)],
    uncontended: [...uncontendedRuns.values()].map(medianOf),
    contention: { setup, results: [...contentionRuns.values()].map(medianOf), skipped, serverCpu: serverCpuNote },
    lockedTime: medianOf(lockedRuns),
    fleet: medianOf(fleetRuns),
    crash: medianOf(crashRuns),
    waiters: [...waiterRuns.values()].map(medianOf),
    renewer: [...renewerRuns.values()].map(medianOf),
    limits,
  }
  await mkdir(resultsDir, { recursive: true })
  await writeFile(`${resultsDir}bench.json`, `${JSON.stringify(result, null, 2)}\n`)
  await writeFile(`${resultsDir}bench.md`, markdown(result))
  await writeFile(`${resultsDir}bench-chart.svg`, contentionChart(result.contention.results, `Contention: ${setup.loops} loops, limit ${setup.slots}, ${setup.holdMs} ms holds`))
  console.log(markdown(result))
  await slots.close()
  if (!('missing' in redis)) await redis.stop()
  await embedded?.stop()
}

await main()
