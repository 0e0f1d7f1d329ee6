// A separate OS process that holds a slot and then blocks its own event loop (CPU-bound work),
// or waits for that slot. Times are process.hrtime (CLOCK_MONOTONIC: one clock machine-wide).
import { Coordinator } from '../../src/index.js'

interface Job {
  url: string
  schema: string
  name: string
  role: 'holder' | 'waiter'
  ttlMs: number
  busyMs: number
  renewIn: 'thread' | 'event-loop'
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`)
const clock = () => process.hrtime.bigint().toString()

const slots = new Coordinator({
  connectionString: job.url,
  schema: job.schema,
  reaper: false,
  renewIn: job.renewIn,
  onWarning: () => {},
})
const lease = await slots.acquire(job.name, { ttlMs: job.ttlMs, holder: job.role })

if (job.role === 'waiter') {
  emit({ grantedAt: clock(), token: lease.fencingToken.toString() })
} else {
  emit({ acquiredAt: clock(), token: lease.fencingToken.toString() })
  const until = performance.now() + job.busyMs
  while (performance.now() < until) {
    // CPU-bound work: timers, sockets and promises of this thread all wait.
  }
  emit({ busyEndedAt: clock() })
  // Let the loop run once: a lease lost meanwhile must abort its signal now.
  await new Promise((resolve) => setTimeout(resolve, 50))
  emit({ lost: lease.lost, reason: lease.lost ? String((lease.signal.reason as Error).message) : null })
}
emit({ released: await lease.release() })
await slots.close()
process.exit(0)
