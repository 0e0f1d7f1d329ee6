// The renewer thread: keeps this process's leases renewed, each coordinator's on a
// connection of its own, so a holder whose event loop is busy (CPU-bound work, a long
// synchronous parse) keeps its slots while the process lives. When the process dies, so
// does this thread, and the ttl frees them.
import { parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'
import { PgSlotsError } from '../errors.js'
import type { RenewerCommand } from './renewer.js'
import type { SqlContext } from '../sql/context.js'
import { renewLease } from '../sql/renew.js'
import { monotonicMs, TrustWindow } from './trust-window.js'

interface Held {
  owner: number
  ttlMs: number
  trust: TrustWindow
  timer: NodeJS.Timeout | undefined
}

const owners = new Map<number, SqlContext>()
const held = new Map<string, Held>()

parentPort!.on('message', (command: RenewerCommand) => {
  if (command.op === 'open') {
    if (owners.has(command.owner)) return
    // Connects at its first renewal; one connection per coordinator.
    const pool = new pg.Pool({ ...command.clientConfig, max: 1, idleTimeoutMillis: 30_000 })
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    owners.set(command.owner, { pool, schema: command.schema })
  } else if (command.op === 'hold') {
    const lease: Held = { owner: command.owner, ttlMs: command.ttlMs, trust: new TrustWindow(command.trust), timer: undefined }
    held.set(command.id, lease)
    schedule(command.id, lease, Math.max(0, command.renewAt - monotonicMs()))
  } else if (command.op === 'drop') {
    clearTimeout(held.get(command.id)?.timer)
    held.delete(command.id)
  } else {
    for (const [id, lease] of held) {
      if (lease.owner !== command.owner) continue
      clearTimeout(lease.timer)
      held.delete(id)
    }
    const ctx = owners.get(command.owner)
    owners.delete(command.owner)
    void ctx?.pool.end().catch(() => {})
    if (command.last) parentPort!.close()
  }
})

// Loaded: from here on the thread renews what it is handed (messages queued meanwhile included).
Atomics.store(new Int32Array((workerData as { ready: SharedArrayBuffer }).ready), 0, 1)

function schedule(id: string, lease: Held, delayMs: number): void {
  lease.timer = setTimeout(() => void renew(id, lease), delayMs)
}

async function renew(id: string, lease: Held): Promise<void> {
  const ctx = owners.get(lease.owner)
  if (!ctx) return
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
