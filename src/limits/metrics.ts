import { Counter, Gauge, Histogram, type Registry, register as defaultRegistry } from 'prom-client'
import { sql } from 'kysely'
import type { Coordinator } from '../coordinator.js'

/**
 * Registers pgslots metrics in a prom-client registry (default: the global one):
 * per-limit gauges read from the `limit_status` view at scrape time, and counters and a
 * histogram of what this process did. Returns a function that unregisters them.
 * @example
 * const stop = registerMetrics(slots)
 * app.get('/metrics', async (_req, res) => res.type('text/plain').send(await register.metrics()))
 */
export function registerMetrics(coordinator: Coordinator, registry: Registry = defaultRegistry): () => void {
  const registers = [registry]
  const limitLabels = ['limit'] as const
  // Seconds until a bucket frees, by the database clock (the only clock pgslots trusts).
  const limitRows = async () =>
    coordinator.db
      .selectFrom('limit_status')
      .selectAll()
      .select(sql<number | null>`greatest(extract(epoch FROM bucket_frees_at - clock_timestamp()), 0)::float8`.as('bucket_frees_in'))
      .execute()
  // A pick that answers null leaves the limit out (a concurrency limit has no bucket).
  const perLimit = (name: string, help: string, pick: (row: Awaited<ReturnType<typeof limitRows>>[number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: limitLabels,
      registers,
      async collect() {
        this.reset()
        for (const row of await limitRows()) {
          const value = pick(row)
          if (value !== null) this.set({ limit: row.name }, value)
        }
      },
    })
  const metrics = [
    perLimit('pgslots_limit_slots', 'Slots of the limit', (r) => r.slots),
    perLimit('pgslots_limit_used_slots', 'Slots held by live leases', (r) => r.used),
    perLimit('pgslots_limit_waiting', 'Requests queued for the limit', (r) => r.waiting),
    perLimit('pgslots_limit_active', '1 when the limit is active', (r) => (r.active ? 1 : 0)),
    perLimit('pgslots_limit_denied_slots', 'Slots refused or queued since the limit was created', (r) => Number(r.denied)),
    perLimit('pgslots_limit_bucket_level', 'Budget in use of a rate limit (fractional slots; it drains)', (r) => r.bucket_level),
    perLimit('pgslots_limit_bucket_frees_in_seconds', 'Seconds until a rate limit frees its next slot (0: one is free)', (r) =>
      r.bucket_level === null ? null : (r.bucket_frees_in ?? 0),
    ),
  ]
  const waitingByPriority = new Gauge({
    name: 'pgslots_limit_waiting_by_priority',
    help: 'Requests queued for the limit, per priority',
    labelNames: ['limit', 'priority'] as const,
    registers,
    async collect() {
      this.reset()
      const rows = await coordinator.db
        .selectFrom('waiting')
        .innerJoin(sql<{ queue: string }>`unnest(queues)`.as('q'), (join) => join.onTrue())
        .select([sql<string>`q`.as('queue'), 'priority', sql<number>`count(*)::int`.as('n')])
        .groupBy([sql`q`, 'priority'])
        .execute()
      for (const row of rows) this.set({ limit: row.queue, priority: String(row.priority) }, row.n)
    },
  })
  const acquisitions = new Counter({
    name: 'pgslots_acquisitions_total',
    help: 'Leases acquired by this process',
    labelNames: limitLabels,
    registers,
  })
  const waitSeconds = new Histogram({
    name: 'pgslots_acquire_wait_seconds',
    help: 'Time from acquire() to holding the lease, in this process',
    labelNames: limitLabels,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers,
  })
  const lost = new Counter({
    name: 'pgslots_leases_lost_total',
    help: 'Leases of this process lost (expired, revoked or not renewable in time)',
    labelNames: limitLabels,
    registers,
  })
  const expired = new Counter({
    name: 'pgslots_reaped_leases_total',
    help: 'Expired leases ended by this process’s reaper',
    registers,
  })
  const onAcquired = (e: { names: readonly string[]; waitSeconds: number }) => {
    for (const limit of e.names) {
      acquisitions.inc({ limit })
      waitSeconds.observe({ limit }, e.waitSeconds)
    }
  }
  const onLost = (e: { names: readonly string[] }) => {
    for (const limit of e.names) lost.inc({ limit })
  }
  const onReaped = (r: { expiredLeases: number }) => expired.inc(r.expiredLeases)
  coordinator.events.on('acquired', onAcquired)
  coordinator.events.on('leaseLost', onLost)
  coordinator.events.on('reaped', onReaped)
  return () => {
    coordinator.events.off('acquired', onAcquired)
    coordinator.events.off('leaseLost', onLost)
    coordinator.events.off('reaped', onReaped)
    for (const metric of [...metrics, waitingByPriority, acquisitions, waitSeconds, lost, expired]) {
      registry.removeSingleMetric((metric as unknown as { name: string }).name)
    }
  }
}
