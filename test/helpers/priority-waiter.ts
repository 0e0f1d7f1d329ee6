// A separate OS process that asks for a slot with a priority, reports its fencing token
// when granted, holds the slot briefly, and releases it.
import { Coordinator } from '../../src/index.js'

const job = JSON.parse(process.argv[2] ?? '{}') as { url: string; schema: string; name: string; priority: number; label: string }
const slots = new Coordinator({ connectionString: job.url, schema: job.schema, reaper: false, onWarning: () => {} })
const lease = await slots.acquire(job.name, { priority: job.priority, holder: job.label })
process.stdout.write(`${JSON.stringify({ label: job.label, token: lease.fencingToken.toString() })}\n`)
await new Promise((resolve) => setTimeout(resolve, 20))
await lease.release()
await slots.close()
process.exit(0)
