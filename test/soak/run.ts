// `npm run soak -- --seconds 300`: the chaos soak for a bounded time on an embedded Postgres
// of its own, restarted once. `--failover` runs it on a primary and a synchronous standby
// (Debian PostgreSQL 15) instead, failing over every `--failover-every` seconds (30). Writes
// counts and violations to docs/results/soak.json (soak-failover.json). Exits 1 on
// any violation.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startEmbeddedPostgres } from '../../src/demo/embedded-postgres.js'
import { type ChaosOptions, runChaos } from '../helpers/chaos.js'
import { startFailoverCluster } from '../helpers/failover-chaos.js'
import { violations } from '../helpers/invariants.js'
import { hasReplicationBinaries } from '../helpers/replicated-postgres.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    failover: { type: 'boolean', default: false },
    'failover-every': { type: 'string', default: '30' },
  },
})
const seconds = Number(values.seconds)
const failoverEvery = Number(values['failover-every'])
const fail = (message: string) => {
  console.error(message)
  process.exit(2)
}
if (!Number.isFinite(seconds) || seconds < 5 || seconds > 3600) fail('--seconds: must be a number from 5 to 3600')
if (!Number.isFinite(failoverEvery) || failoverEvery < 5) fail('--failover-every: must be a number of seconds, at least 5')
if (values.failover && !hasReplicationBinaries) fail('--failover: needs Debian postgresql-15 (pg_ctl, pg_basebackup)')

const log = (line: string) => console.log(line)
const durationMs = seconds * 1000
const database = values.failover ? await startFailoverCluster(log) : await startEmbeddedPostgres()
try {
  const chaosOptions: ChaosOptions = { db: database, schema: 'soak', durationMs, log }
  if ('failovers' in database) chaosOptions.faults = database.failovers(durationMs, failoverEvery * 1000)
  const started = new Date()
  const result = await runChaos(chaosOptions)
  const found = violations(result.report)
  const { acquisitions, ends, pendingWaiters, timelines, clientGrants, ...details } = result.report
  const summary = {
    started: started.toISOString(),
    seconds,
    ...result.chaos,
    ...('timings' in database ? { failoverTimings: database.timings } : {}),
    acquisitions,
    ends,
    pendingWaiters,
    timelines,
    clientGrants,
    worker: result.workerCounts,
    violations: found.length + pendingWaiters,
    details: { ...details, lines: found, evidence: result.evidence },
  }
  const dir = fileURLToPath(new URL('../../../docs/results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}soak${values.failover ? '-failover' : ''}.json`, `${JSON.stringify(summary, null, 2)}\n`)
  console.log(JSON.stringify({ ...summary, details: undefined }))
  process.exitCode = summary.violations === 0 ? 0 : 1
} finally {
  await database.stop()
}
