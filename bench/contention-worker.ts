// One OS process of the multi-process contention scenario: runs its share of the loops
// between startAt and endAt and prints its acquisitions, and its CPU over them, as JSON
// (WorkerOutput). It tells its parent over IPC, when there is a channel, that its loops are done.
import { Coordinator } from '../src/index.js'
import { processCpuMs } from './machine-cpu.js'
import { runLoops, sampleAt, type WorkerOutput } from './scenarios/contention.js'
import { type Semaphore, naiveSemaphore, pgslotsSemaphore, redisSemaphore } from './semaphores.js'

interface Job {
  system: 'pgslots' | 'naive' | 'redis'
  url: string
  schema: string
  limit: string
  redisPort?: number
  loops: number
  slots: number
  holdMs: number
  startAt: number
  endAt: number
  /** Acquisitions per loop (the 1,000-waiters scenario takes one each); default: until endAt. */
  rounds?: number
  /** Epoch ms from which this process's CPU is counted (see cpuWarmUpMs). */
  cpuFrom: number
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
let coordinator: Coordinator | undefined
let sem: Semaphore
if (job.system === 'pgslots') {
  coordinator = new Coordinator({ connectionString: job.url, schema: job.schema, maxConnections: 10 })
  sem = pgslotsSemaphore(coordinator, job.limit)
} else if (job.system === 'naive') {
  sem = await naiveSemaphore(job.url, job.loops)
} else {
  sem = await redisSemaphore(job.redisPort!, job.slots, job.limit)
}
const cpuFrom = sampleAt(job.cpuFrom, processCpuMs)
const records = await runLoops(sem, job.loops, job.holdMs, job.startAt, job.endAt, job.rounds)
cpuFrom.cancel()
const cpu0 = cpuFrom.value()
const cpuMs = cpu0 === undefined ? 0 : processCpuMs() - cpu0
if (process.send) await new Promise((resolve) => process.send!('looped', resolve))
await sem.close()
await coordinator?.close()
process.disconnect?.()
process.stdout.write(JSON.stringify({ records, cpuMs } satisfies WorkerOutput))
