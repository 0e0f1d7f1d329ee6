// The renewer thread: keeps this process's leases renewed, each coordinator's on a
// connection of its own, so a holder whose event loop is busy (CPU-bound work, a long
// synchronous parse) keeps its slots while the process lives. When the process dies, so
// does this thread, and the ttl frees them. Each lease renews in a RenewalLoop, the same
// loop the event loop runs when there is no thread.
import { parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'
import type { SqlContext } from '../sql/context.js'
import { renewLease } from '../sql/renew.js'
import { RenewalLoop } from './renewal-loop.js'
import type { RenewerCommand, RenewerReport } from './renewer-worker.js'
import { TrustWindow } from './trust-window.js'

interface Owner {
  ctx: SqlContext
  leases: Map<string, RenewalLoop>
}

const owners = new Map<number, Owner>()

parentPort!.on('message', (command: RenewerCommand) => {
  if (command.op === 'open') {
    if (owners.has(command.owner)) return
    // Connects at its first renewal; one connection per coordinator.
    const pool = new pg.Pool({ ...command.clientConfig, max: 1, idleTimeoutMillis: 30_000 })
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    owners.set(command.owner, { ctx: { pool, schema: command.schema }, leases: new Map() })
  } else if (command.op === 'hold') {
    const owner = owners.get(command.owner)
    if (!owner) return
    const loop = owner.leases.get(command.id) ?? hold(owner, command.id, command.ttlMs, command.trust)
    loop.start(command.renewAt)
  } else if (command.op === 'drop') {
    const leases = owners.get(command.owner)?.leases
    leases?.get(command.id)?.stop()
    leases?.delete(command.id)
  } else {
    const owner = owners.get(command.owner)
    owners.delete(command.owner)
    for (const loop of owner?.leases.values() ?? []) loop.stop()
    void owner?.ctx.pool.end().catch(() => {})
    if (command.last) parentPort!.close()
  }
})

// Loaded: from here on the thread renews what it is handed (messages queued meanwhile included).
Atomics.store(new Int32Array((workerData as { ready: SharedArrayBuffer }).ready), 0, 1)

function hold(owner: Owner, id: string, ttlMs: number, trust: SharedArrayBuffer): RenewalLoop {
  const loop = new RenewalLoop({
    ttlMs,
    trust: new TrustWindow(trust),
    renewOnce: () => renewLease(owner.ctx, id, ttlMs),
    onLost: (error) => {
      owner.leases.delete(id)
      parentPort!.postMessage({ id, lost: error.message } satisfies RenewerReport)
    },
  })
  owner.leases.set(id, loop)
  return loop
}
