// The holder of the crash-handoff scenario: takes a slot with ttl 2 s, reports its fencing
// token, and keeps renewing until it is SIGKILLed.
import { Coordinator } from '../src/index.js'

const { url, schema, limit } = JSON.parse(process.argv[2] ?? '{}') as { url: string; schema: string; limit: string }
const slots = new Coordinator({ connectionString: url, schema, reaper: false })
const lease = await slots.acquire(limit, { ttlMs: 2000 })
process.stdout.write(`${JSON.stringify({ token: lease.fencingToken.toString() })}\n`)
setInterval(() => {}, 1 << 30)
