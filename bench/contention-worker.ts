// One OS process of the multi-process contention scenario: runs its share of the loops
// between startAt and endAt and prints its acquisitions as JSON.
import { Coordinator } from '../src/index.js'
import { runLoops } from './scenarios/contention.js'
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
const records = await runLoops(sem, job.loops, job.holdMs, job.startAt, job.endAt, job.rounds)
await sem.close()
await coordinator?.close()
process.stdout.write(JSON.stringify(records))
