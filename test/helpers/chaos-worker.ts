// A chaos-soak worker process: `loops` concurrent loops that acquire random mixes of limits
// and slots, hold them briefly and release, surviving whatever the chaos driver does. Prints
// {"ready":true} once, {"granted":token,"loop":n} for every lease it is granted (the checker
// looks each up in history, and each loop's must rise), and its counts as one JSON line when
// asked to stop with SIGTERM.
import { Coordinator, type Lease } from '../../src/index.js'

interface Job {
  url: string
  schema: string
  limits: string[]
  loops: number
  ttlMs: number
  label: string
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const slots = new Coordinator({
  connectionString: job.url,
  schema: job.schema,
  holder: job.label,
  ttlMs: job.ttlMs,
  reaperIntervalMs: 500,
  maxConnections: 8,
  onWarning: () => {},
})
const counts = { acquired: 0, released: 0, lost: 0, timeouts: 0, impossible: 0, errors: 0 }
const errorCodes: Record<string, number> = {}
let stopping = false

const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function request(): { names: string[]; occupy: number } {
  const first = pick(job.limits)
  const second = pick(job.limits)
  const names = Math.random() < 0.3 && second !== first ? [first, second] : [first]
  return { names, occupy: Math.random() < 0.25 ? 2 : 1 }
}

async function loop(index: number): Promise<void> {
  while (!stopping) {
    const { names, occupy } = request()
    let lease: Lease | undefined
    try {
      // Random priorities: line order changes, the invariants must not.
      lease = await slots.acquire(names, { occupy, priority: Math.floor(Math.random() * 5) - 2, timeoutMs: 5000 })
      counts.acquired++
      // Synchronous on a pipe (Linux): the line is out before a SIGKILL can land.
      process.stdout.write(`${JSON.stringify({ granted: lease.fencingToken.toString(), loop: index })}\n`)
      await sleep(1 + Math.random() * 30)
      if (lease.signal.aborted) counts.lost++
      await lease.release()
      counts.released++
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'UNKNOWN'
      if (code === 'PGSLOTS_ACQUIRE_TIMEOUT') counts.timeouts++
      else if (code === 'PGSLOTS_IMPOSSIBLE_REQUEST') counts.impossible++
      else {
        counts.errors++
        errorCodes[code] = (errorCodes[code] ?? 0) + 1
      }
      // Whatever went wrong (database gone, backend terminated), the lease must not linger.
      await lease?.release().catch(() => {})
      await sleep(50)
    }
  }
}

const loops = Array.from({ length: job.loops }, (_, index) => loop(index))
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
process.on('SIGTERM', async () => {
  stopping = true
  await Promise.all(loops)
  await slots.close()
  process.stdout.write(`${JSON.stringify({ ...counts, errorCodes })}\n`)
  process.exit(0)
})
