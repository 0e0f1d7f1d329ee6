// Contention: `loops` workers take a slot of a limit, hold it `holdMs`,
// give it back, for `seconds` — in one process, or spread over OS processes.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { Semaphore } from '../semaphores.js'
import { databaseCalls, percentile, round } from '../stats.js'

export interface ContentionSetup {
  loops: number
  slots: number
  holdMs: number
  seconds: number
}

export interface ContentionResult {
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
 */
export function summarise(system: string, processes: number, records: Acquisition[], s: ContentionSetup, elapsedMs: number, dbCalls: number): ContentionResult {
  const events = [
    ...records.map((r) => ({ t: r.released, grant: false, waited: false })),
    ...records.map((r) => ({ t: r.got, grant: true, waited: r.got - r.asked > 0.5 })),
  ].sort((a, b) => a.t - b.t)
  const freed: number[] = []
  const handoffs: number[] = []
  let initiallyFree = s.slots
  for (const e of events) {
    if (!e.grant) freed.push(e.t)
    else if (initiallyFree > 0) initiallyFree--
    else {
      const at = freed.shift()
      if (at !== undefined && e.waited) handoffs.push(e.t - at)
    }
  }
  const waits = records.map((r) => r.got - r.asked)
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
    dbCallsPerAcquisition: round(dbCalls / records.length),
  }
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

export async function contentionInProcess(system: string, url: string, sem: Semaphore, s: ContentionSetup): Promise<ContentionResult> {
  const start = Date.now()
  const { result, calls } = await countingCalls(url, () => runLoops(sem, s.loops, s.holdMs, start, start + s.seconds * 1000))
  return summarise(system, 1, result, s, Date.now() - start, calls)
}

/** The same scenario with the loops split over `processes` OS processes (bench/contention-worker). */
export async function contentionMultiProcess(
  system: string,
  job: { system: string; url: string; schema: string; limit: string; redisPort?: number; rounds?: number },
  s: ContentionSetup,
  processes: number,
): Promise<ContentionResult> {
  const worker = fileURLToPath(new URL('../contention-worker.js', import.meta.url))
  const startAt = Date.now() + 1500 // time to start and connect
  const endAt = startAt + s.seconds * 1000
  const { result, calls } = await countingCalls(job.url, () =>
    Promise.all(
      Array.from({ length: processes }, (_, i) => {
        const loops = Math.floor(s.loops / processes) + (i < s.loops % processes ? 1 : 0)
        const args = JSON.stringify({ ...job, loops, slots: s.slots, holdMs: s.holdMs, startAt, endAt })
        return new Promise<Acquisition[]>((resolve, reject) => {
          const child = spawn(process.execPath, [worker, args], { stdio: ['ignore', 'pipe', 'inherit'] })
          let out = ''
          child.stdout.on('data', (chunk) => (out += chunk))
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Acquisition[]) : reject(new Error(`contention worker exited with ${code}`))))
        })
      }),
    ),
  )
  const records = result.flat()
  // One-shot runs (`rounds`) end when the last slot is given back, not at endAt.
  const lastRelease = records.reduce((max, r) => Math.max(max, r.released), startAt)
  return summarise(system, processes, records, s, Math.min(endAt, lastRelease) - startAt, calls)
}
