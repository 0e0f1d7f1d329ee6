// One OS process of the fleet beside the contention scenario: `coordinators` coordinators,
// each with its own LISTEN connection, each holding the one slot of a limit of its own
// and waiting for a second one, as idle workers of a fleet do. Prints {"ready":true}
// once all wait, and stays until killed.
import { Coordinator } from '../src/index.js'

interface Job {
  url: string
  schema: string
  coordinators: number
  label: string
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const coordinators = Array.from(
  { length: job.coordinators },
  () => new Coordinator({ connectionString: job.url, schema: job.schema, maxConnections: 2, reaper: false, onWarning: () => {} }),
)
await Promise.all(
  coordinators.map(async (slots, i) => {
    const name = `bench:fleet-${job.label}-${i}`
    await slots.limits.upsert(name, { slots: 1 })
    await slots.acquire(name, { ttlMs: 600_000 })
    void slots.acquire(name, { ttlMs: 600_000 }).catch(() => {})
  }),
)
// Ready once every waiter recorded its listener (the grants would NOTIFY it).
const probe = coordinators[0]!
for (;;) {
  const waiting = await probe.db
    .selectFrom('waiters')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('queue', 'like', `bench:fleet-${job.label}-%`)
    .where('listener_pid', 'is not', null)
    .executeTakeFirstOrThrow()
  if (Number(waiting.n) === job.coordinators) break
  await new Promise((r) => setTimeout(r, 100))
}
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
setInterval(() => {}, 1 << 30)
