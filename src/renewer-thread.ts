// The renewer thread: keeps this process's leases renewed on a connection of its own, so a
// holder whose event loop is busy (CPU-bound work, a long synchronous parse) keeps its slots
// while the process lives. When the process dies, so does this thread, and the ttl frees them.
import { parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'
import { PgSlotsError } from './errors.js'
import type { RenewerCommand, RenewerData } from './renewer.js'
import { renewLease } from './sql/renew.js'
import { monotonicMs, TrustWindow } from './trust-window.js'

interface Held {
  ttlMs: number
  trust: TrustWindow
  timer: NodeJS.Timeout | undefined
}

const data = workerData as RenewerData
const pool = new pg.Pool({ ...data.clientConfig, max: 1, idleTimeoutMillis: 30_000 })
pool.on('error', () => {})
pool.on('connect', (client) => client.on('error', () => {}))
const ctx = { pool, schema: data.schema }
const held = new Map<string, Held>()

parentPort!.on('message', (command: RenewerCommand) => {
  if (command.op === 'hold') {
    const lease: Held = { ttlMs: command.ttlMs, trust: new TrustWindow(command.trust), timer: undefined }
    held.set(command.id, lease)
    schedule(command.id, lease, command.ttlMs / 3)
  } else if (command.op === 'drop') {
    clearTimeout(held.get(command.id)?.timer)
    held.delete(command.id)
  } else {
    for (const lease of held.values()) clearTimeout(lease.timer)
    held.clear()
    void pool.end().finally(() => parentPort!.close())
  }
})

function schedule(id: string, lease: Held, delayMs: number): void {
  lease.timer = setTimeout(() => void renew(id, lease), delayMs)
}

async function renew(id: string, lease: Held): Promise<void> {
  const sentAt = monotonicMs()
  try {
    const row = await renewLease(ctx, id, lease.ttlMs)
    if (held.get(id) !== lease) return
    lease.trust.extend(row, sentAt, lease.ttlMs)
    schedule(id, lease, lease.ttlMs / 3)
  } catch (error) {
    if (held.get(id) !== lease) return
    if (error instanceof PgSlotsError) {
      // Lost for good (expired, revoked, released elsewhere): tell the holder.
      held.delete(id)
      lease.trust.close()
      parentPort!.postMessage({ id, lost: error.message })
      return
    }
    // The database is unreachable: retry quickly while the trust window lasts.
    schedule(id, lease, Math.min(lease.ttlMs / 10, 1000))
  }
}
