import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runChaos } from '../helpers/chaos.js'
import { type FailoverCluster, startFailoverCluster } from '../helpers/failover-chaos.js'
import { violations } from '../helpers/invariants.js'
import { hasReplicationBinaries } from '../helpers/replicated-postgres.js'

if (!hasReplicationBinaries) console.warn('failover chaos skipped: Debian postgresql-15 (pg_ctl, pg_basebackup) is absent')

// The short failover soak (`npm run soak -- --failover` runs a long one): one failover to the
// synchronous standby under the usual chaos, then a new synchronous standby.
describe.skipIf(!hasReplicationBinaries)('chaos soak with a failover', () => {
  let cluster: FailoverCluster
  beforeAll(async () => {
    cluster = await startFailoverCluster()
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  it('keeps every invariant, and fencing order, across a failover under chaos; no slot leaks', async () => {
    const durationMs = 24_000
    const faults = cluster.failovers(durationMs, 12_000)
    expect(faults).toHaveLength(1)
    const result = await runChaos({ db: cluster, faults, schema: 'failover_chaos', durationMs })
    const { report } = result
    console.log(`failover chaos: ${JSON.stringify({ ...result.chaos, ...result.workerCounts, acquisitions: report.acquisitions, clientGrants: report.clientGrants, timings: cluster.timings })}`)
    expect(violations(report)).toEqual([])
    expect(report.pendingWaiters).toBe(0)
    expect(result.chaos.failovers).toBe(1)
    expect(report.timelines).toBe(2) // grants on both sides of the failover, each in fencing order
    expect(report.acquisitions).toBeGreaterThan(100)
    expect(report.ends).toBe(report.acquisitions) // everything drained: all ended once
  }, 90_000)
})
