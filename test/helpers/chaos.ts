// The chaos soak: worker processes hammer five limits while a driver SIGKILLs and restarts
// workers, terminates backends, revokes leases, lowers and raises limits and restarts
// Postgres once; afterwards the invariant checker replays the event log.
import { type ChildProcess, spawn } from 'node:child_process'
import pg from 'pg'
import type { EmbeddedDatabase } from '../../src/embedded-postgres.js'
import { Coordinator } from '../../src/index.js'
import { type InvariantReport, checkInvariants } from './invariants.js'
import { builtHelper } from './processes.js'

export interface ChaosOptions {
  db: EmbeddedDatabase
  schema: string
  durationMs: number
  workers?: number
  loopsPerWorker?: number
  /** Mean pause between chaos actions. */
  actionEveryMs?: number
  log?: (line: string) => void
}

export interface ChaosResult {
  workerCounts: Record<string, number>
  chaos: { kills: number; restarts: number; terminatedBackends: number; revocations: number; resizes: number; databaseRestarts: number }
  report: InvariantReport
}

const LIMITS = ['cpu', 'gpu', 'disk', 'net', 'api']
const APP = 'pgslots-chaos-driver'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!

interface Worker {
  child: ChildProcess
  ready: Promise<void>
  final: Promise<Record<string, number> | null>
}

function startWorker(job: object): Worker {
  const child = spawn(process.execPath, [builtHelper('chaos-worker'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  let out = ''
  let onReady: () => void
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  child.stdout!.on('data', (chunk) => {
    out += chunk
    const parts = out.split('\n')
    out = parts.pop()!
    for (const line of parts) {
      lines.push(line)
      if (lines.length === 1) onReady()
    }
  })
  const final = new Promise<Record<string, number> | null>((resolve) =>
    child.on('exit', () => {
      onReady()
      const last = lines.length > 1 ? lines.at(-1) : undefined
      resolve(last ? (JSON.parse(last) as Record<string, number>) : null)
    }),
  )
  return { child, ready, final }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { db, schema, durationMs, log = () => {} } = options
  const admin = new Coordinator({ connectionString: db.url, schema, reaper: false, onWarning: () => {} })
  const sql = new pg.Pool({ connectionString: db.url, application_name: APP, max: 2 })
  sql.on('error', () => {})
  sql.on('connect', (client) => client.on('error', () => {}))
  const chaos = { kills: 0, restarts: 0, terminatedBackends: 0, revocations: 0, resizes: 0, databaseRestarts: 0 }
  const workerCounts: Record<string, number> = {}
  const add = (counts: Record<string, number> | null) => {
    for (const [key, value] of Object.entries(counts ?? {})) if (typeof value === 'number') workerCounts[key] = (workerCounts[key] ?? 0) + value
  }
  try {
    await admin.migrate()
    for (const name of LIMITS) await admin.limits.create(name, { slots: 2 + Math.floor(Math.random() * 3) })
    let spawned = 0
    const job = () => ({ url: db.url, schema, limits: LIMITS, loops: options.loopsPerWorker ?? 25, ttlMs: 2000, label: `worker-${++spawned}` })
    const workers = Array.from({ length: options.workers ?? 4 }, () => startWorker(job()))
    await Promise.all(workers.map((w) => w.ready))

    const end = Date.now() + durationMs
    const restartAt = Date.now() + durationMs * 0.4
    const attempt = async (action: () => Promise<unknown>) => action().catch((error) => log(`chaos action failed: ${error}`))
    while (Date.now() < end) {
      await sleep((options.actionEveryMs ?? 300) * (0.5 + Math.random()))
      if (chaos.databaseRestarts === 0 && Date.now() >= restartAt) {
        log('restarting Postgres')
        await db.restart(500)
        chaos.databaseRestarts++
        continue
      }
      const roll = Math.random()
      if (roll < 0.1) {
        const i = Math.floor(Math.random() * workers.length)
        workers[i]!.child.kill('SIGKILL')
        await workers[i]!.final
        chaos.kills++
        workers[i] = startWorker(job())
        await workers[i]!.ready
        chaos.restarts++
      } else if (roll < 0.4) {
        await attempt(async () => {
          const { rows } = await sql.query(
            `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> $1
             ORDER BY random() LIMIT 1`,
            [APP],
          )
          if (rows[0]?.ok) chaos.terminatedBackends++
        })
      } else if (roll < 0.7) {
        await attempt(async () => {
          const { rows } = await sql.query(`SELECT fencing_token::text AS token FROM "${schema}".leases ORDER BY random() LIMIT 1`)
          if (rows[0] && (await admin.leases.revoke(rows[0].token as string))) chaos.revocations++
        })
      } else {
        await attempt(async () => {
          await admin.limits.update(pick(LIMITS), { slots: 1 + Math.floor(Math.random() * 4) })
          chaos.resizes++
        })
      }
    }

    log('stopping workers')
    for (const w of workers) w.child.kill('SIGTERM')
    for (const w of workers) add(await w.final)
    // Leases and waiters of killed workers expire with their ttl and heartbeat; reap them.
    const drainEnd = Date.now() + 40_000
    for (;;) {
      await admin.reap().catch(() => {})
      const { rows } = await sql.query(
        `SELECT (SELECT count(*) FROM "${schema}".leases)::int + (SELECT count(*) FROM "${schema}".waiters)::int AS n`,
      )
      if (rows[0].n === 0 || Date.now() > drainEnd) break
      await sleep(500)
    }
    const query = async (text: string) => {
      const client = await sql.connect()
      try {
        await client.query(`SET search_path = "${schema}"`)
        return (await client.query(text)).rows
      } finally {
        client.release()
      }
    }
    return { workerCounts, chaos, report: await checkInvariants(query) }
  } finally {
    await admin.close()
    await sql.end()
  }
}
