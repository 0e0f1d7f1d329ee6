import { Worker } from 'node:worker_threads'
import type pg from 'pg'
import { packageDir } from '../package-dir.js'
import { LeaseTable, type TableEntry } from './lease-table.js'
import { Alarm } from './renewer-alarm.js'
import type { TrustWindow } from './trust-window.js'

/** What the main thread tells the renewer thread. Leases themselves go through the lease table. @internal */
export type RenewerCommand =
  | { op: 'open'; owner: number; clientConfig: pg.ClientConfig; schema: string }
  /** `last`: no coordinator of the process is left, and the thread ends. */
  | { op: 'close'; owner: number; last: boolean }
  /** The lease table grew: slots from segment × segmentSlots on live there. */
  | { op: 'segment'; buffer: SharedArrayBuffer }

/** What the renewer thread tells the main thread: the database says the lease in `entry` is gone. @internal */
export interface RenewerReport {
  entry: TableEntry
  lost: string
}

/** What the thread is started with. @internal */
export interface RenewerData {
  ready: SharedArrayBuffer
  /** The table's first segment, its count of changes (LeaseTable.changes), and the thread's alarm. */
  table: SharedArrayBuffer
  changes: SharedArrayBuffer
  alarm: SharedArrayBuffer
}

/** A coordinator with a connection of its own in the thread. @internal */
export interface ThreadOwner {
  id: number
  clientConfig: pg.ClientConfig
  schema: string
}

/** A lease the thread renews, as its holder's side sees it. @internal */
export interface ThreadHolding {
  readonly owner: number
  /** The database says the lease is gone. */
  lost(message: string): void
  /**
   * The thread cannot renew the lease: it renews on its holder's event loop from now on,
   * the first time at once; `warning` says why.
   */
  renewHere(warning: string): void
}

/** A lease in the table, as this thread keeps it. */
interface Held {
  entry: TableEntry
  trust: TrustWindow
  holding: ThreadHolding
}

/**
 * The process's renewer thread (renewer-thread.ts) as the main thread sees it. One per
 * process, shared by its coordinators: a thread each cost a fleet of them 25–45 % of the
 * throughput while they started. A coordinator's Renewer joins it with its first lease
 * (opening its connection in the thread) and leaves it at close; the last to leave ends
 * the thread. A thread that cannot start, or that fails, is not restarted: its leases,
 * and every later one in the process, renew on their holders' event loops.
 * @internal
 */
export class RenewerWorker {
  static #current: RenewerWorker | undefined
  /** Why no renewer thread can run in this process, once one could not. */
  static #refused: string | undefined
  static #warned = false

  /** The process's one warning that leases renew on the event loop instead of the thread. */
  static warnOnce(onWarning: (message: string) => void, message: string): void {
    if (RenewerWorker.#warned) return
    RenewerWorker.#warned = true
    onWarning(message)
  }

  /** The process's thread, started if none runs; a string saying why when none can. */
  static forProcess(): RenewerWorker | string {
    if (RenewerWorker.#refused !== undefined) return RenewerWorker.#refused
    try {
      RenewerWorker.#current ??= new RenewerWorker()
    } catch (error) {
      // Worker threads refused (the permission model), or the file is missing.
      RenewerWorker.#refused = `cannot start (${(error as Error).message})`
      return RenewerWorker.#refused
    }
    return RenewerWorker.#current
  }

  readonly #worker: Worker
  /** Cell 0 turns 1 once the worker has loaded: shared memory, so it reads true even when
   *  this thread was too busy to take a message. */
  readonly #ready = new Int32Array(new SharedArrayBuffer(4))
  readonly #table = new LeaseTable()
  readonly #alarm = new Alarm()
  /** The owners the worker has been told about. */
  readonly #owners = new Set<number>()
  /** By slot: the lease in it. */
  readonly #held = new Map<number, Held>()

  private constructor() {
    const file = `${packageDir('renewer thread', ['./lease/', '../dist/src/lease/'], 'renewer-thread.js')}/renewer-thread.js`
    // No flags for the thread: it runs this package's compiled JavaScript, which needs none,
    // and the flags node was started with are for the main script (-e, --input-type, --test,
    // --watch, --inspect, preloads); some of them stop a worker from starting at all.
    const workerData: RenewerData = { ready: this.#ready.buffer as SharedArrayBuffer, table: this.#table.segments[0]!.buffer, changes: this.#table.changes.buffer as SharedArrayBuffer, alarm: this.#alarm.buffer }
    this.#worker = new Worker(file, { execArgv: [], workerData })
    // The thread must not keep the process alive: a process that ends drops its leases' renewals.
    this.#worker.unref()
    this.#worker.on('message', (report: RenewerReport) => {
      // A lease released (or moved) meanwhile: its release, not this renewal, says how it ended.
      if (this.#table.holds(report.entry)) this.#held.get(report.entry.slot)?.holding.lost(report.lost)
    })
    const failed = (why: string) => {
      if (RenewerWorker.#current !== this) return // ended on purpose, or already given up
      this.#giveUp(Atomics.load(this.#ready, 0) === 1 ? `failed (${why})` : `cannot start (${why})`)
    }
    this.#worker.on('error', (error) => failed(error.message))
    this.#worker.on('exit', (code) => failed(`exit code ${code}`))
  }

  /**
   * The thread renews lease `id` from `renewAt` (monotonic ms), every ttl/3, until dropped:
   * the lease goes into the lease table (its trust window with it), no message.
   */
  hold(owner: ThreadOwner, id: string, ttlMs: number, trust: TrustWindow, renewAt: number, holding: ThreadHolding): TableEntry {
    if (!this.#owners.has(owner.id)) {
      const { clientConfig, schema } = owner
      this.#post({ op: 'open', owner: owner.id, clientConfig, schema })
      this.#owners.add(owner.id)
    }
    const { added, ...entry } = this.#table.put(owner.id, id, ttlMs, renewAt, trust)
    if (added) this.#post({ op: 'segment', buffer: added.buffer })
    this.#held.set(entry.slot, { entry, trust, holding })
    // Only a renewal sooner than the thread's next scan wakes it (after a failed release, or a shorter ttl).
    this.#alarm.ringBefore(renewAt)
    if (Atomics.load(this.#ready, 0) === 1) return entry
    // A thread that never finishes loading (a preload that hangs in workers) must not cost the
    // lease: half its ttl leaves the event loop time to renew it before its trust window closes.
    const waitMs = ttlMs / 2
    setTimeout(() => {
      if (Atomics.load(this.#ready, 0) === 1 || !this.#table.holds(entry)) return
      this.drop(entry, trust)
      holding.renewHere(`the lease renewer thread did not start within ${waitMs} ms: leases held meanwhile renew on the event loop`)
    }, waitMs).unref()
    return entry
  }

  /** The thread stops renewing the lease in `entry` (released, lost, or moved); its trust window leaves the table. */
  drop(entry: TableEntry, trust: TrustWindow): void {
    if (!this.#table.holds(entry)) return
    this.#held.delete(entry.slot)
    // A lease the thread renewed: it lets go of the slot at its next scan, now rather than in a second.
    if (this.#table.free(entry, trust)) this.#alarm.ring()
  }

  /** Closes the owner's connection in the thread; the last owner ends the thread. */
  async leave(owner: number): Promise<void> {
    if (!this.#owners.delete(owner)) return
    for (const { entry, trust, holding } of this.#held.values()) if (holding.owner === owner) this.drop(entry, trust)
    const last = this.#owners.size === 0
    if (RenewerWorker.#current !== this) return
    this.#post({ op: 'close', owner, last })
    if (!last) return
    RenewerWorker.#current = undefined
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve))
    const timer = setTimeout(() => void this.#worker.terminate(), 2000)
    await exited
    clearTimeout(timer)
  }

  #post(command: RenewerCommand): void {
    this.#worker.postMessage(command)
  }

  /** No thread runs in this process from now on; the leases this one held renew on the event loop. */
  #giveUp(why: string): void {
    RenewerWorker.#current = undefined
    RenewerWorker.#refused = why
    for (const { entry, trust, holding } of this.#held.values()) {
      this.drop(entry, trust)
      holding.renewHere(`the lease renewer thread ${why}: leases renew on the event loop`)
    }
  }
}
