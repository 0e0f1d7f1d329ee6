import { Worker } from 'node:worker_threads'
import type pg from 'pg'
import { packageDir } from '../package-dir.js'
import { monotonicMs, type TrustWindow } from './trust-window.js'

/** @internal */
export type RenewerCommand =
  | { op: 'open'; owner: number; clientConfig: pg.ClientConfig; schema: string }
  /** `last`: no coordinator of the process is left, and the thread ends. */
  | { op: 'close'; owner: number; last: boolean }
  /** `renewAt`: the first renewal, on the monotonic clock both threads share (a thread slow to start renews on time). */
  | { op: 'hold'; owner: number; id: string; ttlMs: number; trust: SharedArrayBuffer; renewAt: number }
  | { op: 'drop'; id: string }

/** What the renewer tells a lease's holder. @internal */
export interface RenewalEvents {
  /** The database says the lease is gone. */
  lost(message: string): void
  /** The thread cannot renew the lease: its holder renews it on the event loop from now on, the first time in `inMs`. */
  renewHere(inMs: number): void
}

interface Holding {
  owner: number
  ttlMs: number
  trust: TrustWindow
  events: RenewalEvents
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
 * A thread that cannot start, or that fails, is not restarted: its leases, and every later
 * one, renew on their holders' event loops, after one warning for the process.
 */
const thread = {
  worker: undefined as Worker | undefined,
  /** Cell 0 turns 1 once the current worker has loaded: shared memory, so it reads true even
   *  when this thread was too busy to take a message. */
  ready: new Int32Array(new SharedArrayBuffer(4)),
  /** The owners the current worker has been told about. */
  opened: new Set<number>(),
  owners: new Map<number, Owner>(),
  holdings: new Map<string, Holding>(),
  nextOwner: 1,
  /** Why no renewer thread runs in this process; once set, none is started again. */
  broken: undefined as string | undefined,
  warned: false,
}

/** Hands a lease to the thread (starting it, and telling it about the owner, as needed). */
function hold(id: string, h: Holding, renewInMs: number): void {
  const worker = thread.broken === undefined ? (thread.worker ?? start()) : undefined
  if (!worker) return renewHere(id, h, brokenWarning(), renewInMs)
  const owner = thread.owners.get(h.owner)
  if (owner && !thread.opened.has(h.owner)) {
    worker.postMessage({ op: 'open', owner: h.owner, clientConfig: owner.clientConfig, schema: owner.schema } satisfies RenewerCommand)
    thread.opened.add(h.owner)
  }
  const renewAt = monotonicMs() + renewInMs
  worker.postMessage({ op: 'hold', owner: h.owner, id, ttlMs: h.ttlMs, trust: h.trust.buffer, renewAt } satisfies RenewerCommand)
  const ready = thread.ready
  if (Atomics.load(ready, 0) === 1) return
  // A thread that never finishes loading (a preload that hangs in workers) must not cost the
  // lease: half its ttl leaves the event loop time to renew it before its trust window closes.
  const waitMs = h.ttlMs / 2
  setTimeout(() => {
    if (Atomics.load(ready, 0) === 1 || thread.holdings.get(id) !== h) return
    worker.postMessage({ op: 'drop', id } satisfies RenewerCommand)
    renewHere(id, h, `the lease renewer thread did not start within ${waitMs} ms: leases held meanwhile renew on the event loop`, 0)
  }, waitMs).unref()
}

/** Gives lease `id` back to its holder's event loop; the first time in the process, with `warning`. */
function renewHere(id: string, h: Holding, warning: string, inMs: number): void {
  thread.holdings.delete(id)
  if (!thread.warned) {
    thread.warned = true
    thread.owners.get(h.owner)?.onWarning(warning)
  }
  h.events.renewHere(inMs)
}

const brokenWarning = () => `the lease renewer thread ${thread.broken}: leases renew on the event loop`

/** No thread runs in this process from now on; the leases it held renew on the event loop. */
function giveUp(why: string): void {
  thread.worker = undefined
  thread.broken = why
  for (const [id, h] of thread.holdings) renewHere(id, h, brokenWarning(), 0)
}

function start(): Worker | undefined {
  const ready = new Int32Array(new SharedArrayBuffer(4))
  let worker: Worker
  try {
    const file = `${packageDir('renewer thread', ['./lease/', '../dist/src/lease/'], 'renewer-thread.js')}/renewer-thread.js`
    // No flags for the thread: it runs this package's compiled JavaScript, which needs none,
    // and the flags node was started with are for the main script (-e, --input-type, --test,
    // --watch, --inspect, preloads); some of them stop a worker from starting at all.
    worker = new Worker(file, { execArgv: [], workerData: { ready: ready.buffer } })
  } catch (error) {
    // Worker threads refused (the permission model), or the file is missing.
    thread.broken = `cannot start (${(error as Error).message})`
    return undefined
  }
  // The thread must not keep the process alive: a process that ends drops its leases' renewals.
  worker.unref()
  worker.on('message', (message: { id: string; lost: string }) => {
    const holding = thread.holdings.get(message.id)
    thread.holdings.delete(message.id)
    holding?.events.lost(message.lost)
  })
  const failed = (why: string) => {
    if (thread.worker !== worker) return // stopped on purpose, or already given up
    giveUp(Atomics.load(ready, 0) === 1 ? `failed (${why})` : `cannot start (${why})`)
  }
  worker.on('error', (error) => failed(error.message))
  worker.on('exit', (code) => failed(`exit code ${code}`))
  thread.worker = worker
  thread.ready = ready
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

  /** Renews lease `id` every ttl/3, the first time in `renewInMs`; `events` say when it is lost or left to the holder. */
  hold(id: string, ttlMs: number, trust: TrustWindow, events: RenewalEvents, renewInMs: number): void {
    if (this.#stopped) return
    const holding = { owner: this.#owner, ttlMs, trust, events }
    thread.holdings.set(id, holding)
    hold(id, holding, renewInMs)
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
