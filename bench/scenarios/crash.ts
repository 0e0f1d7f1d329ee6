// Crash handoff: a holder process with ttl 2 s is SIGKILLed while this
// process waits for the slot; how long after the kill, and after the lease's expiry (both in
// database time), does the waiter hold it?
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Coordinator } from '../../src/index.js'
import { round } from '../stats.js'

export interface CrashResult {
  killToGrantMs: number
  /** Database time of the grant minus the dead lease's expires_at (target ≤ 100 ms). */
  grantAfterExpiryMs: number
}

export async function crashHandoff(url: string, schema: string, slots: Coordinator): Promise<CrashResult> {
  const limit = 'bench:crash'
  await slots.limits.upsert(limit, { slots: 1 })
  const holderScript = fileURLToPath(new URL('../crash-holder.js', import.meta.url))
  const holder = spawn(process.execPath, [holderScript, JSON.stringify({ url, schema, limit })], { stdio: ['ignore', 'pipe', 'inherit'] })
  const { token } = await new Promise<{ token: string }>((resolve) => {
    let out = ''
    holder.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { token: string })
    })
  })
  const waiting = slots.acquire(limit, { ttlMs: 30_000, timeoutMs: 30_000 })
  await new Promise((r) => setTimeout(r, 700)) // mid-way between two renewals
  holder.kill('SIGKILL')
  const killedAt = performance.now()
  // The dead lease stays in the table until its expiry: read when that is.
  const dead = await slots.db.selectFrom('leases').select('expires_at').where('fencing_token', '=', token).executeTakeFirstOrThrow()
  const lease = await waiting
  const killToGrantMs = performance.now() - killedAt
  const granted = await slots.db
    .selectFrom('leases')
    .select('acquired_at')
    .where('fencing_token', '=', lease.fencingToken.toString())
    .executeTakeFirstOrThrow()
  await lease.release()
  return { killToGrantMs: round(killToGrantMs, 0), grantAfterExpiryMs: round(granted.acquired_at.getTime() - dead.expires_at.getTime(), 1) }
}
