import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { Coordinator } from '../../src/index.js'
import { checkInvariants, violations } from '../helpers/invariants.js'
import { type RunningWorker, startWorker } from '../helpers/processes.js'
import { hasReplicationBinaries, startReplicatedPair } from '../helpers/replicated-postgres.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { until } from '../helpers/until.js'

interface Event {
  token?: string
  lost?: string
  released?: boolean | string
}

const schema = 'failover'
// Leases survive a failover that completes within their ttl (less one renewal interval):
// 15 s leaves room for a promotion on a test machine busy with the rest of the suite.
const ttlMs = 15_000
let cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  cleanups = []
})

/** A replicated pair behind a TCP proxy (the clients' "virtual IP"), migrated, with `slots` on `fo`. */
async function setUp(synchronous: boolean, slots: number) {
  const pair = await startReplicatedPair({ synchronous })
  cleanups.push(() => pair.stop())
  const proxy = await new TcpProxy('127.0.0.1', pair.primaryPort).start()
  cleanups.push(() => proxy.stop())
  const url = proxy.url(pair.url(pair.primaryPort))
  const admin = new Coordinator({ connectionString: url, schema, reaper: false, onWarning: () => {} })
  cleanups.push(() => admin.close())
  await admin.migrate()
  await admin.limits.create('fo', { slots })
  const sql = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 2000 })
  sql.on('error', () => {})
  cleanups.push(() => sql.end())
  const query = async (text: string, values?: unknown[]) => {
    const client = await sql.connect()
    try {
      await client.query(`SET search_path = ${schema}`)
      return (await client.query(text, values)).rows
    } finally {
      client.release(true)
    }
  }
  const client = (role: string) => {
    const running = startWorker<Event>('failover-client', { url, schema, name: 'fo', role, ttlMs })
    void running.then((w) => cleanups.push(() => w.kill()))
    return running
  }
  /**
   * The primary crashes; the standby (started again first, when it was stopped) is promoted
   * and the proxy points at it.
   */
  const failOver = async (options: { restartStandby?: boolean } = {}) => {
    await pair.killPrimary()
    proxy.cut()
    if (options.restartStandby) await pair.startStandby()
    await pair.promoteStandby()
    proxy.retarget('127.0.0.1', pair.standbyPort)
  }
  return { pair, proxy, admin, query, client, failOver }
}

/** Retries a query until the new primary answers. */
async function whenUp<T>(op: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await op()
    } catch (error) {
      if (i > 200) throw error
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

const released = async (worker: RunningWorker<Event>) => (await worker.kill('SIGTERM')).filter((e) => 'released' in e || 'lost' in e)

if (!hasReplicationBinaries) {
  console.warn('failover tests skipped: Debian postgresql-15 (pg_ctl, pg_basebackup) is absent (.ci/run installs it)')
}

describe.skipIf(!hasReplicationBinaries)('failover to a standby', () => {
  it('synchronous standby: held leases survive, tokens never repeat, waiters are served, 0 violations', async () => {
    const { query, client, failOver } = await setUp(true, 2)
    const holders = [await client('holder-1'), await client('holder-2')]
    const waiting = [client('waiter-1'), client('waiter-2')]
    await until(async () => (await query('SELECT 1 FROM waiting')).length === 2, 'two waiters queue')
    const [{ max: before }] = await query('SELECT max(fencing_token)::text AS max FROM leases')

    await failOver()
    const [{ promoted }] = await whenUp(() => query('SELECT clock_timestamp() AS promoted'))
    // Every lease was renewed on the new primary (expires_at - ttl is the last renewal).
    await until(
      async () =>
        (await query(`SELECT 1 FROM leases WHERE expires_at - ttl > $1`, [promoted])).length === 2,
      'both holders renew on the new primary',
      30_000,
    )
    for (const holder of holders) expect(await released(holder)).toEqual([{ released: true }])
    // Waiters are served after reconnecting (a place in line queued without waiting for the
    // standby may be taken again: the waiter notices at its next heartbeat).
    const served = await Promise.all(waiting)
    for (const waiter of served) expect(BigInt(waiter.first.token!)).toBeGreaterThan(BigInt(before))
    for (const waiter of served) expect(await released(waiter)).toEqual([{ released: true }])

    const report = await checkInvariants((text) => query(text), { fo: 2 })
    expect(report.acquisitions).toBe(4)
    expect(violations(report)).toEqual([])
  }, 90_000)

  it('asynchronous standby that missed the last grants: their holders learn they lost them, tokens still never repeat', async () => {
    const { pair, admin, query, client, failOver } = await setUp(false, 2)
    const kept = await client('replicated')
    // The standby has everything so far, including the lease above.
    await whenUp(async () => {
      const standby = new pg.Client({ connectionString: pair.url(pair.standbyPort) })
      await standby.connect()
      try {
        await until(
          async () =>
            (await standby.query(`SELECT 1 FROM ${schema}.leases WHERE fencing_token = $1`, [kept.first.token])).rows
              .length === 1,
          'the standby replays the first lease',
        )
      } finally {
        await standby.end()
      }
    })
    await pair.stopStandby()
    // While the standby is away: more tokens than a sequence logs ahead (32), and a new holder.
    for (let i = 0; i < 40; i++) await (await admin.acquire('fo')).release()
    const lost = await client('unreplicated')
    const handedOut = BigInt(lost.first.token!)

    await failOver({ restartStandby: true })
    // The new primary's sequence restarted behind tokens already handed out...
    const [{ last }] = await whenUp(() => query('SELECT last_value::text AS last FROM fencing_token_seq'))
    expect(BigInt(last)).toBeLessThan(handedOut)
    // ...yet the next token is above every one of them (the timeline is its high part).
    const after = await client('after-failover')
    expect(BigInt(after.first.token!)).toBeGreaterThan(handedOut)
    // The holder of a grant the standby never received learns it at its next renewal.
    await until(async () => lost.printed().some((e) => e.lost), 'the unreplicated holder learns its lease is lost', 30_000)
    expect(lost.printed().find((e) => e.lost)!.lost).toMatch(/lease lost/)
    // The replicated lease is still held and renewed.
    expect(await released(kept)).toEqual([{ released: true }])
    expect(await released(after)).toEqual([{ released: true }])
    const report = await checkInvariants((text) => query(text), { fo: 2 })
    expect(violations(report)).toEqual([])
  }, 90_000)
})
