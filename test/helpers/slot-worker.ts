// A separate OS process that talks to pgslots, driven by a JSON job in argv[2].
// It prints one JSON line per event on stdout. Built to dist/ by `npm test`.
import { Coordinator } from '../../src/index.js'

interface Job {
  url: string
  schema: string
  action: 'try-acquire' | 'acquire-in-turn' | 'hold' | 'rate-limit' | 'queue'
  names: string[]
  /** try-acquire: concurrent attempts; acquire-in-turn: sequential requests. */
  count: number
  occupy?: number
  /** Wall-clock ms (Date.now()) to start at, so processes start together. */
  startAt?: number
  /** acquire-in-turn: how long each lease is held. */
  holdMs?: number
  label?: string
  ttlMs?: number
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`)

const slots = new Coordinator({ connectionString: job.url, schema: job.schema, reaper: false, onWarning: () => {} })
if (job.startAt) await new Promise((r) => setTimeout(r, Math.max(0, job.startAt! - Date.now())))

if (job.action === 'try-acquire') {
  const leases = await Promise.all(
    Array.from({ length: job.count }, () => slots.tryAcquire(job.names, { occupy: job.occupy ?? 1, ttlMs: 60_000 })),
  )
  emit({ granted: leases.filter((l) => l !== null).map((l) => l!.fencingToken.toString()) })
  // Exit without releasing: the leases stay in the database for the test to inspect.
  process.exit(0)
}

if (job.action === 'acquire-in-turn') {
  // Queue `count` waiters at once, then hold each grant briefly; report the order of grants.
  await Promise.all(
    Array.from({ length: job.count }, async (_, i) => {
      const lease = await slots.acquire(job.names, { occupy: job.occupy ?? 1, ttlMs: 30_000, holder: `${job.label}#${i}` })
      emit({ holder: `${job.label}#${i}`, token: lease.fencingToken.toString() })
      await new Promise((r) => setTimeout(r, job.holdMs ?? 1))
      await lease.release()
    }),
  )
  await slots.close()
  process.exit(0)
}

if (job.action === 'hold') {
  // Take the slots and keep them (renewing) until killed.
  const lease = await slots.acquire(job.names, { occupy: job.occupy ?? 1, ttlMs: job.ttlMs ?? 2000, holder: job.label })
  emit({ token: lease.fencingToken.toString(), expiresAt: lease.expiresAt.toISOString() })
  setInterval(() => {}, 1 << 30)
}

if (job.action === 'rate-limit') {
  // `count` concurrent rateLimit() calls; each reports when it got its budget.
  await Promise.all(
    Array.from({ length: job.count }, async (_, i) => {
      await slots.rateLimit(job.names, { occupy: job.occupy ?? 1, holder: `${job.label}#${i}` })
      emit({ holder: `${job.label}#${i}` })
    }),
  )
  await slots.close()
  process.exit(0)
}

if (job.action === 'queue') {
  // Queue one request and stay in line until killed.
  void slots.acquire(job.names, { occupy: job.occupy ?? 1, holder: job.label }).catch(() => {})
  emit({ queued: true })
  setInterval(() => {}, 1 << 30)
}
