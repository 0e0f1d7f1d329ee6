// Contention: `loops` workers take a slot of a limit, hold it `holdMs`,
// give it back, for `seconds` — in one process, or spread over OS processes.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { type CpuPerAcquisition, perAcquisition, processCpuMs } from '../machine-cpu.js'
import type { Semaphore } from '../semaphores.js'
import { databaseCalls, percentile, round } from '../stats.js'

export interface ContentionSetup {
  loops: number
  slots: number
  holdMs: number
  seconds: number
}

export interface ContentionResult extends CpuPerAcquisition {
  system: string
  processes: number
  acquisitionsPerSecond: number
  utilisation: number
  handoffP50Ms: number
  handoffP99Ms: number
  waitP99Ms: number
  waitMaxMs: number
  /** max wait ÷ fair share (loops × hold ÷ slots) */
  maxWaitOverFairShare: number
  /** The longest wait of a request sent in the warm-up (connections and plans being made), left out of the waits above. */
  coldStartWaitMaxMs: number
  dbCallsPerAcquisition: number
}

/** One acquisition, in epoch milliseconds (comparable across processes on one machine). */
export interface Acquisition {
  asked: number
  got: number
  released: number
}

const clock = () => performance.timeOrigin + performance.now()

/** Runs `loops` loops against a semaphore from `startAt` until `endAt` (epoch ms), or `rounds` times each. */
export async function runLoops(sem: Semaphore, loops: number, holdMs: number, startAt: number, endAt: number, rounds = Infinity): Promise<Acquisition[]> {
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())))
  const records: Acquisition[] = []
  await Promise.all(
    Array.from({ length: loops }, async () => {
      for (let round = 0; round < rounds && clock() < endAt; round++) {
        const asked = clock()
        const release = await sem.acquire()
        const got = clock()
        await new Promise((r) => setTimeout(r, holdMs))
        const released = clock()
        await release()
        records.push({ asked, got, released })
      }
    }),
  )
  return records
}

/**
 * Metrics over all acquisitions. Freed slots are taken in the order they were freed: each
 * grant takes the oldest freed slot nobody has taken yet (or one of the initially free
 * ones); for a grant that had to wait, handoff is the time that slot stood free.
 * Throughput and utilisation count the whole run; handoffs and waits count from the end of
 * the warm-up (cpu.from, as the CPU does), when every connection is open and has planned
 * its statements: before, a request waits for that, not for its turn (coldStartWaitMaxMs).
 */
export function summarise(
  system: string,
  processes: number,
  records: Acquisition[],
  s: ContentionSetup,
  elapsedMs: number,
  dbCalls: number,
  cpu: { clientMs: number; serverMs: number | null; from: number },
): ContentionResult {
  const events = [
    ...records.map((r) => ({ t: r.released, grant: false, waited: false, warm: false })),
    ...records.map((r) => ({ t: r.got, grant: true, waited: r.got - r.asked > 0.5, warm: r.asked >= cpu.from })),
  ].sort((a, b) => a.t - b.t)
  const freed: number[] = []
  const handoffs: number[] = []
  let initiallyFree = s.slots
  for (const e of events) {
    if (!e.grant) freed.push(e.t)
    else if (initiallyFree > 0) initiallyFree--
    else {
      const at = freed.shift()
      if (at !== undefined && e.waited && e.warm) handoffs.push(e.t - at)
    }
  }
  const waits = records.filter((r) => r.asked >= cpu.from).map((r) => r.got - r.asked)
  const coldWaits = records.filter((r) => r.asked < cpu.from).map((r) => r.got - r.asked)
  const held = records.reduce((sum, r) => sum + (r.released - r.got), 0)
  const waitMax = waits.reduce((a, b) => Math.max(a, b), 0)
  return {
    system,
    processes,
    acquisitionsPerSecond: round(records.length / (elapsedMs / 1000), 0),
    utilisation: round(held / (elapsedMs * s.slots), 3),
    handoffP50Ms: round(percentile(handoffs, 50)),
    handoffP99Ms: round(percentile(handoffs, 99)),
    waitP99Ms: round(percentile(waits, 99)),
    waitMaxMs: round(waitMax),
    maxWaitOverFairShare: round(waitMax / ((s.loops * s.holdMs) / s.slots)),
    coldStartWaitMaxMs: round(coldWaits.reduce((a, b) => Math.max(a, b), 0)),
    dbCallsPerAcquisition: round(dbCalls / records.length),
    ...perAcquisition(cpu.clientMs, cpu.serverMs, records.filter((r) => r.got >= cpu.from).length),
  }
}

/** CPU ms so far of the server side of a system (the PostgreSQL cluster, redis-server), null when not readable. */
export type ServerCpuReader = () => number | null

const delta = (before: number | null, after: number | null) => (before === null || after === null ? null : after - before)

/**
 * Machine CPU is read from this long into a run until its loops end, and divided by the
 * acquisitions granted in that window: the processes have started, connected (a pool's
 * connections, password authentication) and compiled their hot code by then, which
 * otherwise costs more than a second of CPU per process and is no acquisition's cost.
 */
export const cpuWarmUpMs = (s: ContentionSetup) => Math.min(2000, s.seconds * 250)

/** Calls `sample` at epoch ms `at` (now if past); cancel() when the run ends first. */
export function sampleAt<T>(at: number, sample: () => T): { value: () => T | undefined; cancel: () => void } {
  let value: T | undefined
  const timer = setTimeout(() => (value = sample()), Math.max(0, at - Date.now()))
  return { value: () => value, cancel: () => clearTimeout(timer) }
}

/** Counts the database round trips made while `run` runs. */
export async function countingCalls<T>(url: string, run: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const stats = new pg.Client({ connectionString: url })
  await stats.connect()
  const before = await databaseCalls((q) => stats.query(q))
  const result = await run()
  const calls = (await databaseCalls((q) => stats.query(q))) - before - 1
  await stats.end()
  return { result, calls }
}

export async function contentionInProcess(system: string, url: string, sem: Semaphore, s: ContentionSetup, serverCpu: ServerCpuReader = () => null): Promise<ContentionResult> {
  const start = Date.now()
  const from = start + cpuWarmUpMs(s)
  let cpu = { clientMs: 0, serverMs: null as number | null, from }
  const { result, calls } = await countingCalls(url, async () => {
    const at = sampleAt(from, () => ({ client: processCpuMs(), server: serverCpu() }))
    const records = await runLoops(sem, s.loops, s.holdMs, start, start + s.seconds * 1000)
    at.cancel()
    const before = at.value()
    if (before) cpu = { clientMs: processCpuMs() - before.client, serverMs: delta(before.server, serverCpu()), from }
    return records
  })
  return summarise(system, 1, result, s, Date.now() - start, calls, cpu)
}

/** The same scenario with the loops split over `processes` OS processes (bench/contention-worker). */
export async function contentionMultiProcess(
  system: string,
  job: { system: string; url: string; schema: string; limit: string; redisPort?: number; rounds?: number },
  s: ContentionSetup,
  processes: number,
  serverCpu: ServerCpuReader = () => null,
): Promise<ContentionResult> {
  const worker = fileURLToPath(new URL('../contention-worker.js', import.meta.url))
  const startAt = Date.now() + 1500 // time to start and connect
  const endAt = startAt + s.seconds * 1000
  // The server's CPU is read from cpuFrom until every worker has finished its loops (each
  // says so over IPC before it disconnects); each worker reports its own CPU over that window.
  const cpuFrom = startAt + cpuWarmUpMs(s)
  const server0 = sampleAt(cpuFrom, serverCpu)
  let looping = processes
  let server1: number | null = null
  const { result, calls } = await countingCalls(job.url, () =>
    Promise.all(
      Array.from({ length: processes }, (_, i) => {
        const loops = Math.floor(s.loops / processes) + (i < s.loops % processes ? 1 : 0)
        const args = JSON.stringify({ ...job, loops, slots: s.slots, holdMs: s.holdMs, startAt, endAt, cpuFrom })
        return new Promise<WorkerOutput>((resolve, reject) => {
          const child = spawn(process.execPath, [worker, args], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
          let out = ''
          child.stdout!.on('data', (chunk) => (out += chunk))
          child.once('message', () => --looping === 0 && (server1 = serverCpu()))
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerOutput) : reject(new Error(`contention worker exited with ${code}`))))
        })
      }),
    ),
  )
  server0.cancel()
  const records = result.flatMap((r) => r.records)
  const clientMs = result.reduce((sum, r) => sum + r.cpuMs, 0)
  // One-shot runs (`rounds`) end when the last slot is given back, not at endAt.
  const lastRelease = records.reduce((max, r) => Math.max(max, r.released), startAt)
  const serverMs = delta(server0.value() ?? null, server1)
  return summarise(system, processes, records, s, Math.min(endAt, lastRelease) - startAt, calls, { clientMs, serverMs, from: cpuFrom })
}

/** What bench/contention-worker prints: its acquisitions, and its CPU ms from cpuFrom to the end of its loops (0 when they ended first). */
export interface WorkerOutput {
  records: Acquisition[]
  cpuMs: number
}
