import { LeaseLostError, type PgSlotsError } from '../errors.js'
import { type AcquireRow, unguardedRow } from '../sql/acquire.js'
import type { SqlContext } from '../sql/context.js'
import { releaseLease } from '../sql/release.js'
import { renewLease } from '../sql/renew.js'
import { type Renewal, type RenewedLease, type Renewer, renewOnEventLoop } from './renewer.js'
import { monotonicMs, TrustWindow } from './trust-window.js'

/** @internal */
export interface LeaseGrant {
  row: AcquireRow
  /** performance.now() when the request that produced `row` was sent. */
  sentAt: number
  ttlMs: number
  occupy: number
  /** Called once when the lease is released (false) or lost (true). */
  onEnd?: (lost: boolean) => void
  /** Renews from the renewer thread; without it the lease renews on this event loop. */
  renewer?: Renewer | undefined
}

/**
 * Slots held on one or more limits until released or lost. Renewed every ttl/3 — by the
 * coordinator's renewer thread (default), so a blocked event loop does not lose it.
 * It trusts itself only until a local deadline computed from the database's own
 * `expires_at - now()` measured from when the request was *sent*, minus a margin — so
 * `signal` aborts before the database could hand the slots to anyone else, and `lost`
 * reads that deadline itself, so it is truthful even in the first line that runs after a
 * pause (SIGSTOP, a VM freeze, a long GC pause). Nothing local protects a write already under
 * way when a pause starts: pass `fencingToken` to the systems you write to.
 * @example
 * await using lease = await slots.acquire('gpu:gpu-1', { ttlMs: 30_000 })
 * await train({ signal: lease.signal, fencingToken: lease.fencingToken })
 */
export class Lease implements AsyncDisposable {
  /** Secret capability to renew and release; never shown in listings. */
  readonly id: string
  /** Strictly increasing across all leases and never reused: pass it to the systems you write to. */
  readonly fencingToken: bigint
  /**
   * The requested limits that existed when it was granted (missing names skipped). It holds
   * slots only on those of them that were active concurrency limits then: an inactive limit
   * counts nothing, a rate limit's budget is taken, not held.
   */
  readonly names: readonly string[]
  readonly occupy: number
  readonly ttlMs: number
  /** Aborted with a LeaseLostError when the lease is lost or revoked. */
  readonly signal: AbortSignal

  #trust = new TrustWindow()
  #controller = new AbortController()
  /** Undefined for a handle that holds nothing, or a lease lost on its way here. */
  #renewal: Renewal | undefined
  #lossTimer: NodeJS.Timeout | undefined
  /** The release under way, or the one that succeeded; a failed one is forgotten. */
  #release: Promise<boolean> | undefined
  #released = false
  #ctx: SqlContext
  #onEnd: ((lost: boolean) => void) | undefined

  /**
   * A handle that holds nothing, for a request with no limit to guard (no names, or none
   * exists): no lease row, fencing token 0n, never lost; release() is true. @internal
   */
  static unguarded(ctx: SqlContext, ttlMs: number, occupy: number): Lease {
    return new Lease(ctx, { row: unguardedRow(), sentAt: performance.now(), ttlMs, occupy })
  }

  /** @internal */
  constructor(ctx: SqlContext, grant: LeaseGrant) {
    const { row } = grant
    this.#ctx = ctx
    this.occupy = grant.occupy
    this.ttlMs = grant.ttlMs
    this.signal = this.#controller.signal
    if (row.status === 'acquired' && !row.lease_id) {
      this.id = ''
      this.fencingToken = 0n
      this.names = Object.freeze([])
      this.#released = true
      this.#release = Promise.resolve(true)
      return
    }
    if (!row.lease_id || !row.fencing_token || !row.expires_at) throw new Error('pgslots: not a granted lease')
    this.#onEnd = grant.onEnd
    this.id = row.lease_id
    this.fencingToken = BigInt(row.fencing_token)
    this.names = Object.freeze([...(row.names ?? [])])
    // grant.sentAt is performance.now() time; the trust window runs on the monotonic clock.
    this.#trust.extend(row, monotonicMs() - (performance.now() - grant.sentAt), this.ttlMs)
    this.#watchTrust()
    if (this.lost) return
    const renewed: RenewedLease = {
      ctx,
      id: this.id,
      ttlMs: this.ttlMs,
      trust: this.#trust,
      lost: (error) => this.#lose(error),
    }
    this.#renewal = grant.renewer ? grant.renewer.renewal(renewed) : renewOnEventLoop(renewed)
    this.#startRenewing(monotonicMs() + this.ttlMs / 3)
  }

  /** When the database expires the lease unless renewed (database clock). */
  get expiresAt(): Date {
    return this.#trust.expiresAt()
  }

  /**
   * True once the lease was lost or revoked. Reads the trust window's deadline on the
   * monotonic clock, so the first check after a pause is truthful though no timer has run
   * yet; finding the window passed, it aborts `signal` right then.
   */
  get lost(): boolean {
    if (!this.#controller.signal.aborted && !this.#released && this.#trust.remainingMs() <= 0) {
      this.#lose(new LeaseLostError('lease lost: not renewed before its trust window closed'))
    }
    return this.#controller.signal.aborted
  }

  /**
   * Throws the LeaseLostError when the lease is lost: check, then write. A pause between the
   * check and the write is still possible; the fencing token is what protects the write.
   * @example
   * lease.throwIfLost()
   * await store.put(key, value, { fencingToken: lease.fencingToken })
   */
  throwIfLost(): void {
    if (this.lost) throw this.signal.reason
  }

  /**
   * Renews now (automatic renewal continues). Throws LeaseLostError when the lease is gone.
   * @example
   * await lease.renew()
   */
  async renew(): Promise<Date> {
    this.throwIfLost()
    if (this.#released) throw new LeaseLostError('lease lost: it was released')
    const sentAt = monotonicMs()
    try {
      const row = await renewLease(this.#ctx, this.id, this.ttlMs)
      // The trust watch finds the later deadline when it wakes; nothing to re-arm.
      this.#trust.extend(row, sentAt, this.ttlMs)
      return this.expiresAt
    } catch (error) {
      // During a release, the release's own answer says whether the lease ended or was lost.
      if (error instanceof LeaseLostError && !this.#release) this.#lose(error)
      throw error
    }
  }

  /**
   * Gives the slots back (to the next waiter, in the same transaction). Idempotent: resolves
   * true when the first call ended a live lease (false when it was already revoked or
   * expired), and later calls return that same answer. When the call fails (the database
   * unreachable), the error is thrown and the lease is as it was: renewing, its `signal`
   * aborting if it is lost; call release() again.
   * @example
   * try { await work() } finally { await lease.release() }
   */
  release(): Promise<boolean> {
    this.#release ??= this.#releaseOnce()
    return this.#release
  }

  /** `JSON.stringify(lease)`: the public fields, the fencing token as a string, never the secret id. */
  toJSON(): Record<string, unknown> {
    return {
      fencingToken: this.fencingToken.toString(),
      names: this.names,
      occupy: this.occupy,
      ttlMs: this.ttlMs,
      expiresAt: this.expiresAt,
      lost: this.lost,
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release()
  }

  async #releaseOnce(): Promise<boolean> {
    // Renewals pause meanwhile (one landing after the release would report the lease lost),
    // but the trust window runs on: `signal` still aborts if the call outlasts it.
    this.#stopRenewing()
    try {
      const released = await releaseLease(this.#ctx, this.id, this.names)
      this.#released = true
      clearTimeout(this.#lossTimer)
      this.#ended(false)
      return released
    } catch (error) {
      this.#release = undefined
      this.#startRenewing(monotonicMs())
      throw error
    }
  }

  /** Renewals (wherever they run) from `dueAt` on the monotonic clock. */
  #startRenewing(dueAt: number): void {
    if (this.#controller.signal.aborted || this.#released) return
    this.#renewal?.start(dueAt)
  }

  #stopRenewing(): void {
    this.#renewal?.stop()
  }

  /** Loses the lease when its trust window closes, unless a renewal (from any thread) moved it. */
  #watchTrust(): void {
    clearTimeout(this.#lossTimer)
    // Reading `lost` loses the lease when the window has closed.
    if (this.lost || this.#released) return
    this.#lossTimer = setTimeout(() => this.#watchTrust(), this.#trust.remainingMs())
    this.#lossTimer.unref()
  }

  #lose(reason: PgSlotsError): void {
    if (this.#controller.signal.aborted || this.#released) return
    this.#stopRenewing()
    clearTimeout(this.#lossTimer)
    this.#trust.close()
    const lost = reason instanceof LeaseLostError ? reason : new LeaseLostError(reason.message, { cause: reason })
    this.#controller.abort(lost)
    this.#ended(true)
  }

  #ended(lost: boolean): void {
    this.#onEnd?.(lost)
    this.#onEnd = undefined
  }
}
