// A separate OS process that asks for a slot under a holder label and keeps what it gets
// until SIGTERM, then releases it: the page must see other processes' leases and waiters.
import { Coordinator } from '../../src/index.js'

interface Job {
  url: string
  schema: string
  name: string
  holder: string
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`)
const slots = new Coordinator({ connectionString: job.url, schema: job.schema, reaper: false, onWarning: () => {} })
process.once('SIGTERM', () => {
  // close() releases a held lease and cancels a wait still in line.
  void slots.close().then(() => process.exit(0))
})
emit({ asking: true })
const lease = await slots.acquire(job.name, { ttlMs: 30_000, holder: job.holder, timeoutMs: 120_000 })
emit({ token: lease.fencingToken.toString() })
