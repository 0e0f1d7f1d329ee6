import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import type { Coordinator } from '../coordinator.js'
import { LimitNotFoundError } from '../errors.js'
import { runWorkerProcesses } from './worker-processes.js'

export type Phase = 'download' | 'wait' | 'gpu' | 'save' | 'done'

/** What one flow did, as the database recorded it, in ms since the first download. */
export interface FlowRecord {
  worker: string
  flow: number
  pid: number
  downloadStart: number
  downloadEnd: number
  gpuStart: number
  gpuEnd: number
  saveEnd: number
}

export interface PipelineOptions {
  url: string
  schema: string
  workers: string[]
  flowsPerWorker: number
  gpuSlots: number
  /** Time scale: 2 runs twice as fast. */
  speed: number
  /** Called about every 250 ms with each worker's flows by phase, read from the views. */
  /** `final`: the state once every worker process has ended. */
  onProgress?: (phases: Map<string, Record<Phase, number>>, final: boolean) => void
}

/** The shipped example (examples/image-pipeline), compiled next to this package's dist/src. */
const workerScript = fileURLToPath(new URL('../../examples/image-pipeline/worker.js', import.meta.url))

/**
 * Runs the image pipeline example for real: one process per worker, each starting its flows
 * as processes of their own, every flow with its own coordinator. Returns what history says.
 */
export async function runPipeline(slots: Coordinator, o: PipelineOptions): Promise<FlowRecord[]> {
  await forgetEarlierRuns(slots, o.workers)
  // Templates: each worker's limits are created by its first request, whatever its id.
  await slots.limits.upsert('gpu:*', { slots: o.gpuSlots, active: true })
  for (const roomy of ['net:*', 'disk:*']) await slots.limits.upsert(roomy, { slots: o.flowsPerWorker, active: true })
  const run = randomUUID()
  const timer = setInterval(() => void progress(slots, run, o, false).catch(() => {}), 250)
  try {
    const codes = await runWorkerProcesses(
      workerScript,
      o.workers.map((worker) => ({
        ...process.env,
        WORKER_ID: worker,
        FLOWS: String(o.flowsPerWorker),
        DATABASE_URL: o.url,
        PGSLOTS_SCHEMA: o.schema,
        SPEED: String(o.speed),
        RUN_ID: run,
      })),
    )
    const failed = codes.filter((code) => code !== 0).length
    if (failed > 0) throw new Error(`${failed} worker process(es) failed`)
  } finally {
    clearInterval(timer)
  }
  // The last tick may predate the last flows' ends: one more, of the final state.
  await progress(slots, run, o, true).catch(() => {})
  return recordedFlows(slots, run)
}

/**
 * Deletes the limits an earlier run created from the templates. Flows that were killed
 * leave their leases (holding GPU slots until their ttl) and their places in the queues;
 * a deleted limit no longer counts those leases and drops its waiters, and the first
 * request of this run creates it again, empty.
 */
async function forgetEarlierRuns(slots: Coordinator, workers: string[]): Promise<void> {
  for (const worker of workers) {
    for (const kind of ['net', 'gpu', 'disk']) {
      await slots.limits.delete(`${kind}:${worker}`).catch((error: unknown) => {
        if (!(error instanceof LimitNotFoundError)) throw error
      })
    }
  }
}

/** Flows by phase right now, from the live leases and the queue (what `watch` shows). */
async function progress(slots: Coordinator, run: string, o: PipelineOptions, final: boolean): Promise<void> {
  if (!o.onProgress) return
  const [held, waiting, done] = await Promise.all([
    slots.db.selectFrom('active_leases').select(['names', 'holder']).where(sql<boolean>`holder->>'run' = ${run}`).execute(),
    slots.db.selectFrom('waiting').select(['names', 'holder']).where(sql<boolean>`holder->>'run' = ${run}`).execute(),
    slots.db.selectFrom('history').select(['names', 'holder']).where(sql<boolean>`holder->>'run' = ${run}`).where('kind', '=', 'released').where(sql<boolean>`names[1] LIKE 'disk:%'`).execute(),
  ])
  const phases = new Map(o.workers.map((w) => [w, { download: 0, wait: 0, gpu: 0, save: 0, done: 0 } as Record<Phase, number>]))
  const count = (rows: Array<{ names: string[] }>, phaseOf: (kind: string) => Phase) => {
    for (const row of rows) {
      const [kind, worker] = row.names[0]!.split(':') as [string, string]
      const p = phases.get(worker)
      if (p) p[phaseOf(kind)]++
    }
  }
  count(held, (kind) => (kind === 'net' ? 'download' : kind === 'gpu' ? 'gpu' : 'save'))
  count(waiting, () => 'wait')
  count(done, () => 'done')
  o.onProgress(phases, final)
}

/** Each flow's download, GPU and save leases from history, on one time axis. */
async function recordedFlows(slots: Coordinator, run: string): Promise<FlowRecord[]> {
  const rows = await slots.db
    .selectFrom('history')
    .select(['names', 'holder', 'granted_at', 'ended_at'])
    .where('kind', '=', 'released')
    .where(sql<boolean>`holder->>'run' = ${run}`)
    .execute()
  const origin = Math.min(...rows.map((r) => new Date(r.granted_at!).getTime()))
  const flows = new Map<string, FlowRecord>()
  for (const r of rows) {
    const holder = r.holder as { worker: string; flow: number; pid: number }
    const key = `${holder.worker}/${holder.flow}`
    const f = flows.get(key) ?? { worker: holder.worker, flow: holder.flow, pid: holder.pid, downloadStart: 0, downloadEnd: 0, gpuStart: 0, gpuEnd: 0, saveEnd: 0 }
    const [start, end] = [new Date(r.granted_at!).getTime() - origin, new Date(r.ended_at).getTime() - origin]
    const kind = r.names[0]!.split(':')[0]
    if (kind === 'net') Object.assign(f, { downloadStart: start, downloadEnd: end })
    else if (kind === 'gpu') Object.assign(f, { gpuStart: start, gpuEnd: end })
    else f.saveEnd = end
    flows.set(key, f)
  }
  return [...flows.values()].sort((a, b) => a.worker.localeCompare(b.worker) || a.flow - b.flow)
}
