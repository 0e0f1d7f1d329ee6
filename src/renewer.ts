import { Worker } from 'node:worker_threads'
import type pg from 'pg'
import { packageDir } from './package-dir.js'
import type { TrustWindow } from './trust-window.js'

/** @internal */
export type RenewerCommand =
  | { op: 'open'; owner: number; clientConfig: pg.ClientConfig; schema: string }
  /** `last`: no coordinator of the process is left, and the thread ends. */
  | { op: 'close'; owner: number; last: boolean }
  | { op: 'hold'; owner: number; id: string; ttlMs: number; trust: SharedArrayBuffer }
  | { op: 'drop'; id: string }

interface Holding {
  owner: number
  ttlMs: number
  trust: TrustWindow
  onLost: (message: string) => void
}

interface Owner {
  clientConfig: pg.ClientConfig
  schema: string
  onWarning: (message: string) => void
}

/** Pool-level settings a dedicated connection does not need (some of them functions). */
const poolOnly = new Set(['Promise', 'log', 'Client', 'max', 'min', 'maxUses', 'allowExitOnIdle', 'maxLifetimeSeconds', 'idleTimeoutMillis', 'onConnect'])

/**
 * A renewer for a coordinator, or undefined (with a warning) when its connection settings
 * hold something no thread can be given (a password callback, a custom stream).
 * @internal
 */
export function openRenewer(
  config: pg.ClientConfig,
  schema: string,
  onWarning: (message: string) => void,
): Renewer | undefined {
  const copy = Object.fromEntries(Object.entries(config).filter(([key]) => !poolOnly.has(key)))
  try {
    return new Renewer({ clientConfig: structuredClone(copy) as pg.ClientConfig, schema, onWarning })
  } catch {
    onWarning("the pool's connection settings cannot be given to a renewer thread: leases renew on the event loop")
    return undefined
  }
}

/**
 * The renewer thread (renewer-thread.ts) is one per process, shared by every coordinator in
 * it (a fleet process may run many): each coordinator is an owner with a connection of its
 * own in the thread. The thread starts with the first lease and ends with the last owner.
 */
const thread = {
  worker: undefined as Worker | undefined,
  /** The owners the current worker has been told about. */
  opened: new Set<number>(),
  owners: new Map<number, Owner>(),
  holdings: new Map<string, Holding>(),
  nextOwner: 1,
}

/** Hands a lease to the thread (starting it, and telling it about the owner, as needed). */
function hold(id: string, h: Holding): void {
  const worker = start()
  const owner = thread.owners.get(h.owner)
  if (owner && !thread.opened.has(h.owner)) {
    worker.postMessage({ op: 'open', owner: h.owner, clientConfig: owner.clientConfig, schema: owner.schema } satisfies RenewerCommand)
    thread.opened.add(h.owner)
  }
  worker.postMessage({ op: 'hold', owner: h.owner, id, ttlMs: h.ttlMs, trust: h.trust.buffer } satisfies RenewerCommand)
}

function start(): Worker {
  if (thread.worker) return thread.worker
  const file = `${packageDir('renewer thread', ['./', '../dist/src/'], 'renewer-thread.js')}/renewer-thread.js`
  const worker = new Worker(file)
  // The thread must not keep the process alive: a process that ends drops its leases' renewals.
  worker.unref()
  worker.on('message', (message: { id: string; lost: string }) => {
    const holding = thread.holdings.get(message.id)
    thread.holdings.delete(message.id)
    holding?.onLost(message.lost)
  })
  worker.on('error', (error) => {
    for (const owner of thread.owners.values()) owner.onWarning(`the lease renewer thread failed (${error.message}); restarting it`)
  })
  worker.on('exit', () => {
    if (thread.worker !== worker) return
    thread.worker = undefined
    // Restart a second later with the owners and leases still held (their trust windows
    // close meanwhile if the thread cannot come back, which loses them honestly).
    setTimeout(() => {
      for (const [id, h] of thread.holdings) hold(id, h)
    }, 1000).unref()
  })
  thread.worker = worker
  thread.opened = new Set()
  return worker
}

/**
 * One coordinator's side of the renewer thread. Renewals land in each lease's shared
 * TrustWindow, so they count even while the holder's event loop is blocked.
 * @internal
 */
export class Renewer {
  readonly #owner = thread.nextOwner++
  #stopped = false

  constructor(owner: Owner) {
    thread.owners.set(this.#owner, owner)
  }

  /** Renews lease `id` every ttl/3 from now on; `onLost` runs when the database says it is gone. */
  hold(id: string, ttlMs: number, trust: TrustWindow, onLost: (message: string) => void): void {
    if (this.#stopped) return
    const holding = { owner: this.#owner, ttlMs, trust, onLost }
    thread.holdings.set(id, holding)
    hold(id, holding)
  }

  drop(id: string): void {
    if (thread.holdings.delete(id)) thread.worker?.postMessage({ op: 'drop', id } satisfies RenewerCommand)
  }

  /** Closes this coordinator's connection in the thread; the last one ends the thread. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    thread.owners.delete(this.#owner)
    for (const [id, h] of thread.holdings) if (h.owner === this.#owner) thread.holdings.delete(id)
    const worker = thread.worker
    if (!worker) return
    const last = thread.owners.size === 0
    worker.postMessage({ op: 'close', owner: this.#owner, last } satisfies RenewerCommand)
    thread.opened.delete(this.#owner)
    if (!last) return
    thread.worker = undefined
    const exited = new Promise((resolve) => worker.once('exit', resolve))
    const timer = setTimeout(() => void worker.terminate(), 2000)
    await exited
    clearTimeout(timer)
  }
}
