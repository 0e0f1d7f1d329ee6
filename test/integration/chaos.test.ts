import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/demo/embedded-postgres.js'
import { runChaos } from '../helpers/chaos.js'
import { violations } from '../helpers/invariants.js'

// The short chaos soak (`npm run soak` runs a long one): a Postgres of its own, since it restarts it.
describe('chaos soak', () => {
  let db: EmbeddedDatabase
  beforeAll(async () => {
    db = await startEmbeddedPostgres()
  }, 60_000)
  afterAll(async () => {
    await db?.stop()
  })

  it('keeps every invariant while workers are killed, backends terminated, leases revoked, limits resized and Postgres restarted', async () => {
    const result = await runChaos({ db, schema: 'chaos', durationMs: 15_000 })
    console.log(`chaos soak: ${JSON.stringify({ ...result.chaos, ...result.workerCounts, ...summary(result.report) })}`)
    expect(violations(result.report)).toEqual([])
    expect(result.report.pendingWaiters).toBe(0)
    expect(result.chaos.kills).toBeGreaterThan(0)
    expect(result.chaos.databaseRestarts).toBe(1)
    expect(result.report.acquisitions).toBeGreaterThan(100)
    expect(result.report.ends).toBe(result.report.acquisitions) // everything drained: all ended once
  }, 120_000)
})

function summary(report: { acquisitions: number; ends: number }) {
  return { acquisitions: report.acquisitions, ends: report.ends }
}
