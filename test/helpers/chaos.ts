// The chaos soak: worker processes hammer five limits while a driver SIGKILLs and restarts
// workers, terminates backends, revokes leases, lowers and raises limits and injects
// whole-database faults (by default one restart of Postgres; failovers, see
// failover-chaos.ts); afterwards the invariant checker replays history.
import pg from 'pg'
import { Coordinator } from '../../src/index.js'
import { type InvariantReport, checkInvariants } from './invariants.js'
import { startWorker } from './processes.js'

type ChaosCounts = Record<'kills' | 'restarts' | 'terminatedBackends' | 'revocations' | 'resizes' | 'databaseRestarts' | 'failovers', number>

/** A fault of the whole database, injected `atMs` into the run (other chaos waits for it). */
export interface DatabaseFault {
  kind: 'databaseRestarts' | 'failovers'
  atMs: number
  inject(): Promise<void>
}

export interface ChaosOptions {
  /** Where every process connects; one that can restart is restarted once by default. */
  db: { url: string; restart?(downMs?: number): Promise<void> }
  /** Whole-database faults; by default one restart of `db` at 40% of the run. */
  faults?: DatabaseFault[]
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
  chaos: ChaosCounts
  report: InvariantReport
  /** History rows around each over-admission (empty when there was none). */
  evidence: pg.QueryResultRow[]
}

const LIMITS = ['cpu', 'gpu', 'disk', 'net', 'api']
const APP = 'pgslots-chaos-driver'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!

type WorkerLine = Record<string, unknown>
/** A chaos worker prints {"ready":true}, then its counts when stopped with SIGTERM. */
const startChaosWorker = (job: object) => startWorker<WorkerLine>('chaos-worker', job)

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { db, schema, durationMs, log = () => {} } = options
  const admin = new Coordinator({ connectionString: db.url, schema, reaper: false, onWarning: () => {} })
  const sql = new pg.Pool({ connectionString: db.url, application_name: APP, max: 2, connectionTimeoutMillis: 5000 })
  sql.on('error', () => {})
  sql.on('connect', (client) => client.on('error', () => {}))
  const chaos: ChaosCounts = { kills: 0, restarts: 0, terminatedBackends: 0, revocations: 0, resizes: 0, databaseRestarts: 0, failovers: 0 }
  const restart = db.restart?.bind(db)
  const restartOnce: DatabaseFault[] = restart ? [{ kind: 'databaseRestarts', atMs: durationMs * 0.4, inject: () => restart(500) }] : []
  const faults = [...(options.faults ?? restartOnce)].sort((a, b) => a.atMs - b.atMs)
  const workerCounts: Record<string, number> = {}
  // Each worker loop's tokens in the order it was granted them.
  const grantedTokens: string[][] = []
  // Every worker printed its grants; a stopped one (not a killed one) its counts last.
  const add = (lines: WorkerLine[]) => {
    const byLoop = new Map<unknown, string[]>()
    for (const { granted, loop } of lines) {
      if (typeof granted !== 'string') continue
      if (!byLoop.has(loop)) byLoop.set(loop, [])
      byLoop.get(loop)!.push(granted)
    }
    grantedTokens.push(...byLoop.values())
    const counts = lines.find((line) => 'acquired' in line) ?? {}
    for (const [key, value] of Object.entries(counts)) if (typeof value === 'number') workerCounts[key] = (workerCounts[key] ?? 0) + value
  }
  try {
    await admin.migrate()
    for (const name of LIMITS) await admin.limits.create(name, { slots: 2 + Math.floor(Math.random() * 3) })
    let spawned = 0
    const job = () => ({ url: db.url, schema, limits: LIMITS, loops: options.loopsPerWorker ?? 25, ttlMs: 2000, label: `worker-${++spawned}` })
    const workers = await Promise.all(Array.from({ length: options.workers ?? 4 }, () => startChaosWorker(job())))

    const started = Date.now()
    const end = started + durationMs
    const attempt = async (action: () => Promise<unknown>) => action().catch((error) => log(`chaos action failed: ${error}`))
    while (Date.now() < end) {
      await sleep((options.actionEveryMs ?? 300) * (0.5 + Math.random()))
      if (faults[0] && Date.now() - started >= faults[0].atMs) {
        const fault = faults.shift()!
        log(`${fault.kind}: injecting at ${Math.round((Date.now() - started) / 1000)} s`)
        await fault.inject()
        chaos[fault.kind]++
        continue
      }
      const roll = Math.random()
      // At least one worker kill per run, however few actions a busy machine allows.
      if (roll < 0.1 || (chaos.kills === 0 && Date.now() - started > (end - started) / 2)) {
        const i = Math.floor(Math.random() * workers.length)
        add(await workers[i]!.kill('SIGKILL'))
        chaos.kills++
        workers[i] = await startChaosWorker(job())
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
    for (const lines of await Promise.all(workers.map((w) => w.kill('SIGTERM')))) add(lines)
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
    const report = await checkInvariants(query, {}, grantedTokens)
    // What happened on an over-admitted limit around the moment, to find out why.
    const evidence = []
    for (const o of report.overAdmitted.slice(0, 3)) {
      const around = `'${o.at.toISOString()}'::timestamptz`
      evidence.push(
        ...(await query(
          `SELECT kind, names, counted, occupy, fencing_token, ticket, granted_at, ended_at, slots FROM history
           WHERE '${o.limit}' = ANY (names) AND (ended_at BETWEEN ${around} - interval '1 second' AND ${around} + interval '50 ms'
             OR granted_at BETWEEN ${around} - interval '1 second' AND ${around} + interval '50 ms')
           ORDER BY coalesce(granted_at, ended_at)`,
        )),
      )
    }
    return { workerCounts, chaos, report, evidence }
  } finally {
    await admin.close()
    await sql.end()
  }
}
