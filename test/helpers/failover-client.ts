// A separate OS process holding or waiting for a slot across a database failover. Prints
// {token} when granted, {lost} if the lease is lost, and on SIGTERM {released} then exits.
import { Coordinator, type Lease } from '../../src/index.js'

interface Job {
  url: string
  schema: string
  name: string
  role: string
  ttlMs: number
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`)

const slots = new Coordinator({ connectionString: job.url, schema: job.schema, reaper: false, onWarning: () => {} })
const state: { lease?: Lease } = {}
process.once('SIGTERM', () => void end())
const held = await slots.acquire(job.name, { ttlMs: job.ttlMs, holder: job.role })
state.lease = held
emit({ token: held.fencingToken.toString() })
held.signal.addEventListener('abort', () => emit({ lost: (held.signal.reason as Error).message }))
setInterval(() => {}, 1 << 30)

async function end(): Promise<void> {
  if (state.lease) emit({ released: await state.lease.release().catch((error: Error) => `failed: ${error.message}`) })
  await slots.close()
  process.exit(0)
}
