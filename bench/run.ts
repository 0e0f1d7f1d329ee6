// npm run bench: DESIGN §9 scenarios, side by side with the physical limit and a naive peer.
// Uses DATABASE_URL, or starts an embedded PostgreSQL. Writes bench/results/latest.{json,md}.
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { startEmbeddedPostgres } from '../src/embedded-postgres.js'
import { Coordinator } from '../src/index.js'
import { type ContentionResult, contentionNaivePolling, contentionPgslots } from './scenarios/contention.js'
import { type UncontendedResult, uncontended } from './scenarios/uncontended.js'
import { median, round } from './stats.js'

const runs = Number(process.env.BENCH_RUNS ?? 3)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url))

function medianOf<T extends object>(rows: T[]): T {
  const first = rows[0] as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(first)) {
    const values = rows.map((r) => (r as Record<string, unknown>)[key])
    out[key] = typeof values[0] === 'number' ? round(median(values as number[]), 3) : values[0]
  }
  return out as T
}

async function main() {
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres()
  const url = process.env.DATABASE_URL ?? (embedded?.url as string)
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query('DROP SCHEMA IF EXISTS pgslots_bench CASCADE')
  await admin.end()
  const slots = new Coordinator({ connectionString: url, schema: 'pgslots_bench', maxConnections: 20, reaper: true })
  await slots.migrate()
  const version = (await new pg.Pool({ connectionString: url }).query('SHOW server_version')).rows[0].server_version
  console.log(`PostgreSQL ${version}; ${runs} runs of ${seconds}s per scenario`)

  const uncontendedRuns: Record<number, UncontendedResult[]> = {}
  const contentionRuns: Record<string, ContentionResult[]> = {}
  const setup = { loops: 64, slots: 4, holdMs: 5, seconds }
  for (let run = 1; run <= runs; run++) {
    for (const loops of [1, 4, 16]) {
      const r = await uncontended(url, slots, loops, Math.max(2, seconds / 2))
      ;(uncontendedRuns[loops] ??= []).push(r)
      console.log(`run ${run} uncontended ${loops} loops`, r)
    }
    for (const r of [await contentionPgslots(url, slots, setup), await contentionNaivePolling(url, setup)]) {
      ;(contentionRuns[r.system] ??= []).push(r)
      console.log(`run ${run} contention`, r)
    }
  }
  const result = {
    at: new Date().toISOString(),
    postgres: version,
    runs,
    seconds,
    machine: `${(await import('node:os')).cpus().length} cores, node ${process.version}`,
    uncontended: Object.values(uncontendedRuns).map((rs) => medianOf(rs)),
    contention: { setup, results: Object.values(contentionRuns).map((rs) => medianOf(rs)) },
  }
  await mkdir(resultsDir, { recursive: true })
  await writeFile(`${resultsDir}latest.json`, `${JSON.stringify(result, null, 2)}\n`)
  await writeFile(`${resultsDir}latest.md`, markdown(result))
  console.log(markdown(result))
  await slots.close()
  await embedded?.stop()
}

function markdown(r: {
  at: string
  postgres: string
  runs: number
  seconds: number
  machine: string
  uncontended: UncontendedResult[]
  contention: { setup: { loops: number; slots: number; holdMs: number }; results: ContentionResult[] }
}): string {
  const lines = [
    `Medians of ${r.runs} runs, ${r.at}, PostgreSQL ${r.postgres}, ${r.machine}.`,
    '',
    '| loops | raw SQL acquire+release /s | pgslots acquire+release /s | ratio (target ≥ 0.85) |',
    '|---|---|---|---|',
    ...r.uncontended.map((u) => `| ${u.loops} | ${u.rawCyclesPerSecond} | ${u.pgslotsCyclesPerSecond} | ${u.ratio} |`),
    '',
    `Contention: ${r.contention.setup.loops} loops, limit ${r.contention.setup.slots}, ${r.contention.setup.holdMs} ms holds, ${r.seconds} s (ideal ${(1000 / r.contention.setup.holdMs) * r.contention.setup.slots} acq/s).`,
    '',
    '| system | acq/s | utilisation | handoff p50 ms | handoff p99 ms | wait p99 ms | wait max ms | max wait / fair share | DB calls per acquisition |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.contention.results.map(
      (c) =>
        `| ${c.system} | ${c.acquisitionsPerSecond} | ${c.utilisation} | ${c.handoffP50Ms} | ${c.handoffP99Ms} | ${c.waitP99Ms} | ${c.waitMaxMs} | ${c.maxWaitOverFairShare} | ${c.dbCallsPerAcquisition} |`,
    ),
    '',
  ]
  return lines.join('\n')
}

await main()
