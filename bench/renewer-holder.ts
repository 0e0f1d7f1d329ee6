// The holder of the renewer scenario: takes `leases` one-slot leases (ttl 3 s, so each is
// renewed every second) with the given renewIn mode, lets them settle, then reports its
// memory, its database connections, and the CPU it spent per renewal over `seconds`.
import pg from 'pg'
import { Coordinator } from '../src/index.js'

interface Job {
  url: string
  schema: string
  limit: string
  mode: 'thread' | 'event-loop'
  leases: number
  seconds: number
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const ttlMs = 3000
const appName = `pgslots-renewer-bench-${process.pid}`
const url = new URL(job.url)
url.searchParams.set('application_name', appName)
const slots = new Coordinator({ connectionString: url.toString(), schema: job.schema, reaper: false, listen: false, renewIn: job.mode })
const leases = await Promise.all(Array.from({ length: job.leases }, () => slots.acquire(job.limit, { ttlMs })))
await new Promise((r) => setTimeout(r, ttlMs))
const cpuBefore = process.cpuUsage()
await new Promise((r) => setTimeout(r, job.seconds * 1000))
const cpu = process.cpuUsage(cpuBefore)
const renewals = (job.leases * job.seconds * 1000) / (ttlMs / 3)
const probe = new pg.Client({ connectionString: job.url })
await probe.connect()
const { rows } = await probe.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName])
await probe.end()
process.stdout.write(
  `${JSON.stringify({
    rssMb: Math.round(process.memoryUsage().rss / 1e5) / 10,
    connections: rows[0].n as number,
    cpuMsPerRenewal: Math.round(((cpu.user + cpu.system) / 1000 / renewals) * 1000) / 1000,
    lost: leases.filter((l) => l.lost).length,
  })}\n`,
)
await Promise.all(leases.map((l) => l.release()))
await slots.close()
process.exit(0)
