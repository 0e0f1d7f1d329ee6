import type pg from 'pg'
import { LeaseLostError, type PgSlotsError } from '../errors.js'
import type { SqlContext } from '../sql/context.js'
import { renewLease } from '../sql/renew.js'
import { RenewalLoop } from './renewal-loop.js'
import type { TableEntry } from './lease-table.js'
import { RenewerWorker, type ThreadHolding, type ThreadOwner } from './renewer-worker.js'
import { monotonicMs, type TrustWindow } from './trust-window.js'

/** A held lease as its renewals see it. @internal */
export interface RenewedLease {
  /** The holder's connections, for renewing on its event loop. */
  ctx: SqlContext
  id: string
  ttlMs: number
  /** Every renewal extends it, from whichever thread. */
  trust: TrustWindow
  /** The database says the lease is gone. */
  lost(error: PgSlotsError): void
}

/** A lease's renewals, wherever they run. @internal */
export interface Renewal {
  /** Renews at `dueAt` (monotonic ms), then every ttl/3. */
  start(dueAt: number): void
  stop(): void
}

/** Renewals on the holder's event loop. @internal */
export function renewOnEventLoop(lease: RenewedLease): RenewalLoop {
  const { ctx, id, ttlMs, trust } = lease
  return new RenewalLoop({
    ttlMs,
    trust,
    renewOnce: () => renewLease(ctx, id, ttlMs),
    onLost: (error) => lease.lost(error),
  })
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

let nextOwner = 1

/**
 * One coordinator's renewals from the process's renewer thread (RenewerWorker), on a
 * connection of its own there, so they count even while the holder's event loop is
 * blocked. When the thread cannot renew a lease, the lease renews on its holder's event
 * loop instead, after one warning for the process.
 * @internal
 */
export class Renewer {
  readonly #owner: ThreadOwner
  readonly #onWarning: (message: string) => void
  /** The thread this coordinator's leases went to (it joined with the first of them). */
  #worker: RenewerWorker | undefined
  #stopped = false

  constructor(connection: { clientConfig: pg.ClientConfig; schema: string }, onWarning: (message: string) => void) {
    this.#owner = { id: nextOwner++, ...connection }
    this.#onWarning = onWarning
  }

  /** The renewals of `lease`: from the thread while it can, else on the holder's event loop. */
  renewal(lease: RenewedLease): Renewal {
    return new ThreadRenewal(this, lease)
  }

  /** Hands `holding` to the thread: where it sits in the lease table, or undefined when no thread can take it (said once in the process). */
  hold(lease: RenewedLease, dueAt: number, holding: ThreadHolding): TableEntry | undefined {
    const worker = RenewerWorker.forProcess()
    if (typeof worker === 'string') {
      this.warn(`the lease renewer thread ${worker}: leases renew on the event loop`)
      return undefined
    }
    this.#worker = worker
    return worker.hold(this.#owner, lease.id, lease.ttlMs, lease.trust, dueAt, holding)
  }

  drop(entry: TableEntry, trust: TrustWindow): void {
    this.#worker?.drop(entry, trust)
  }

  get owner(): number {
    return this.#owner.id
  }

  get stopped(): boolean {
    return this.#stopped
  }

  warn(message: string): void {
    RenewerWorker.warnOnce(this.#onWarning, message)
  }

  /** Closes this coordinator's connection in the thread; the last one ends the thread. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await this.#worker?.leave(this.#owner.id)
  }
}

/** One lease's renewals from the thread, until the thread cannot renew it: then on the event loop. */
class ThreadRenewal implements Renewal, ThreadHolding {
  readonly #renewer: Renewer
  readonly #lease: RenewedLease
  #here: RenewalLoop | undefined
  /** Where the lease sits in the lease table while the thread may renew it. */
  #entry: TableEntry | undefined

  constructor(renewer: Renewer, lease: RenewedLease) {
    this.#renewer = renewer
    this.#lease = lease
  }

  get owner(): number {
    return this.#renewer.owner
  }

  start(dueAt: number): void {
    if (this.#here) return this.#here.start(dueAt)
    // A coordinator closed meanwhile renews nothing more (its connections are gone).
    if (this.#renewer.stopped) return
    this.#leaveTable()
    this.#entry = this.#renewer.hold(this.#lease, dueAt, this)
    if (!this.#entry) this.#moveHere(dueAt)
  }

  stop(): void {
    if (this.#here) this.#here.stop()
    else this.#leaveTable()
  }

  lost(message: string): void {
    this.#lease.lost(new LeaseLostError(message))
  }

  renewHere(warning: string): void {
    this.#leaveTable()
    this.#renewer.warn(warning)
    this.#moveHere(monotonicMs())
  }

  #leaveTable(): void {
    if (this.#entry) this.#renewer.drop(this.#entry, this.#lease.trust)
    this.#entry = undefined
  }

  #moveHere(dueAt: number): void {
    this.#here = renewOnEventLoop(this.#lease)
    this.#here.start(dueAt)
  }
}
