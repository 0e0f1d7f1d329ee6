import { Worker } from 'node:worker_threads'
import type pg from 'pg'
import { packageDir } from './package-dir.js'
import type { TrustWindow } from './trust-window.js'

/** @internal */
export interface RenewerData {
  clientConfig: pg.ClientConfig
  schema: string
}

/** @internal */
export type RenewerCommand =
  | { op: 'hold'; id: string; ttlMs: number; trust: SharedArrayBuffer }
  | { op: 'drop'; id: string }
  | { op: 'stop' }

interface Holding {
  ttlMs: number
  trust: TrustWindow
  onLost: (message: string) => void
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
    return new Renewer({ clientConfig: structuredClone(copy) as pg.ClientConfig, schema }, onWarning)
  } catch {
    onWarning("the pool's connection settings cannot be given to a renewer thread: leases renew on the event loop")
    return undefined
  }
}

/**
 * The holder's side of the renewer thread (see renewer-thread.ts): one thread and one
 * connection per coordinator, started with the first lease. Renewals land in each lease's
 * shared TrustWindow, so they count even while this thread's event loop is blocked.
 * @internal
 */
export class Renewer {
  readonly #data: RenewerData
  readonly #onWarning: (message: string) => void
  readonly #holding = new Map<string, Holding>()
  #worker: Worker | undefined
  #stopped = false

  constructor(data: RenewerData, onWarning: (message: string) => void) {
    this.#data = data
    this.#onWarning = onWarning
  }

  /** Renews lease `id` every ttl/3 from now on; `onLost` runs when the database says it is gone. */
  hold(id: string, ttlMs: number, trust: TrustWindow, onLost: (message: string) => void): void {
    this.#holding.set(id, { ttlMs, trust, onLost })
    this.#send({ op: 'hold', id, ttlMs, trust: trust.buffer })
  }

  drop(id: string): void {
    if (this.#holding.delete(id)) this.#send({ op: 'drop', id })
  }

  /** Ends the thread and its connection (after the coordinator released its leases). */
  async stop(): Promise<void> {
    this.#stopped = true
    const worker = this.#worker
    this.#worker = undefined
    if (!worker) return
    const exited = new Promise((resolve) => worker.once('exit', resolve))
    worker.postMessage({ op: 'stop' } satisfies RenewerCommand)
    const timer = setTimeout(() => void worker.terminate(), 2000)
    await exited
    clearTimeout(timer)
  }

  #send(command: RenewerCommand): void {
    if (this.#stopped) return
    this.#start().postMessage(command)
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    const file = `${packageDir('renewer thread', ['./', '../dist/src/'], 'renewer-thread.js')}/renewer-thread.js`
    const worker = new Worker(file, { workerData: this.#data })
    // The thread must not keep the process alive: a process that ends drops its leases' renewals.
    worker.unref()
    worker.on('message', (message: { id: string; lost: string }) => {
      const holding = this.#holding.get(message.id)
      this.#holding.delete(message.id)
      holding?.onLost(message.lost)
    })
    worker.on('error', (error) => {
      this.#onWarning(`the lease renewer thread failed (${error.message}); restarting it`)
    })
    worker.on('exit', () => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      // Restart a second later and hand it the leases still held (their trust windows
      // close meanwhile if the thread cannot come back, which loses them honestly).
      setTimeout(() => {
        for (const [id, h] of this.#holding) this.#send({ op: 'hold', id, ttlMs: h.ttlMs, trust: h.trust.buffer })
      }, 1000).unref()
    })
    this.#worker = worker
    return worker
  }
}
