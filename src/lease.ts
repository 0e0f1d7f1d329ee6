import { LeaseLostError, PgSlotsError } from './errors.js'
import type { AcquireRow } from './sql/acquire.js'
import type { SqlContext } from './sql/context.js'
import { releaseLease } from './sql/release.js'
import { renewLease } from './sql/renew.js'

/** @internal */
export interface LeaseGrant {
  row: AcquireRow
  /** performance.now() when the request that produced `row` was sent. */
  sentAt: number
  ttlMs: number
  occupy: number
  /** Called once when the lease is released (false) or lost (true). */
  onEnd?: (lost: boolean) => void
}

/**
 * Slots held on one or more limits until released or lost. Renews itself every ttl/3.
 * It trusts itself only until a local deadline computed from the database's own
 * `expires_at - now()` measured from when the request was *sent*, minus a margin — so
 * `signal` aborts before the database could hand the slots to anyone else.
 * @example
 * await using lease = await slots.acquire('gpu:gpu-1', { ttlMs: 30_000 })
 * await train({ signal: lease.signal, fencingToken: lease.fencingToken })
 */
export class Lease implements AsyncDisposable {
  /** Secret capability to renew and release; never shown in listings. */
  readonly id: string
  /** Strictly increasing across all leases and never reused: pass it to the systems you write to. */
  readonly fencingToken: bigint
  /** The limits this lease counts against (missing names skipped). */
  readonly names: readonly string[]
  readonly occupy: number
  readonly ttlMs: number
  /** Aborted with a LeaseLostError when the lease is lost or revoked. */
  readonly signal: AbortSignal

  #expiresAt: Date
  #trustedUntil = 0
  #controller = new AbortController()
  #renewTimer: NodeJS.Timeout | undefined
  #lossTimer: NodeJS.Timeout | undefined
  #released: Promise<boolean> | undefined
  #ctx: SqlContext
  #onEnd: ((lost: boolean) => void) | undefined

  /** @internal */
  constructor(ctx: SqlContext, grant: LeaseGrant) {
    const { row } = grant
    if (!row.lease_id || !row.fencing_token || !row.expires_at) throw new Error('pgslots: not a granted lease')
    this.#ctx = ctx
    this.#onEnd = grant.onEnd
    this.id = row.lease_id
    this.fencingToken = BigInt(row.fencing_token)
    this.names = Object.freeze([...(row.names ?? [])])
    this.occupy = grant.occupy
    this.ttlMs = grant.ttlMs
    this.signal = this.#controller.signal
    this.#expiresAt = row.expires_at
    this.#trust(row, grant.sentAt)
    this.#scheduleRenew(grant.ttlMs / 3)
  }

  /** When the database expires the lease unless renewed (database clock). */
  get expiresAt(): Date {
    return this.#expiresAt
  }

  /** True once the lease was lost or revoked. */
  get lost(): boolean {
    return this.#controller.signal.aborted
  }

  /**
   * Renews now (automatic renewal continues). Throws LeaseLostError when the lease is gone.
   * @example
   * await lease.renew()
   */
  async renew(): Promise<Date> {
    if (this.lost) throw this.signal.reason
    if (this.#released) throw new LeaseLostError('lease lost: it was released')
    const sentAt = performance.now()
    try {
      const row = await renewLease(this.#ctx, this.id, this.ttlMs)
      if (row.expires_at) this.#expiresAt = row.expires_at
      this.#trust(row, sentAt)
      return this.#expiresAt
    } catch (error) {
      if (error instanceof LeaseLostError) this.#lose(error)
      throw error
    }
  }

  /**
   * Gives the slots back (to the next waiter, in the same transaction). Idempotent: resolves
   * true when the first call ended a live lease (false when it was already revoked or
   * expired), and later calls return that same answer.
   * @example
   * try { await work() } finally { await lease.release() }
   */
  release(): Promise<boolean> {
    this.#stopTimers()
    this.#released ??= releaseLease(this.#ctx, this.id).then(
      (released) => {
        this.#ended(false)
        return released
      },
      (error) => {
        this.#released = undefined // a failed call (database down) may be retried
        throw error
      },
    )
    return this.#released
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release()
  }

  #trust(row: AcquireRow, sentAt: number): void {
    if (!row.expires_at) return
    const remaining = row.expires_at.getTime() - row.db_now.getTime()
    // Local clocks may run a little slow; keep 2% of the ttl plus 50 ms in reserve.
    const margin = this.ttlMs * 0.02 + 50
    this.#trustedUntil = sentAt + remaining - margin
    clearTimeout(this.#lossTimer)
    const wait = Math.max(0, this.#trustedUntil - performance.now())
    this.#lossTimer = setTimeout(
      () => this.#lose(new LeaseLostError('lease lost: not renewed before its trust window closed')),
      wait,
    )
    this.#lossTimer.unref()
  }

  #scheduleRenew(delayMs: number): void {
    clearTimeout(this.#renewTimer)
    this.#renewTimer = setTimeout(() => void this.#autoRenew(), delayMs)
    this.#renewTimer.unref()
  }

  async #autoRenew(): Promise<void> {
    if (this.lost || this.#released) return
    try {
      await this.renew()
      this.#scheduleRenew(this.ttlMs / 3)
    } catch (error) {
      if (this.lost || this.#released) return
      if (error instanceof PgSlotsError) return this.#lose(error)
      // The database is unreachable: retry quickly while the trust window lasts.
      this.#scheduleRenew(Math.min(this.ttlMs / 10, 1000))
    }
  }

  #lose(reason: PgSlotsError): void {
    this.#stopTimers()
    if (this.#controller.signal.aborted) return
    const lost = reason instanceof LeaseLostError ? reason : new LeaseLostError(reason.message, { cause: reason })
    this.#controller.abort(lost)
    this.#ended(true)
  }

  #ended(lost: boolean): void {
    this.#onEnd?.(lost)
    this.#onEnd = undefined
  }

  #stopTimers(): void {
    clearTimeout(this.#renewTimer)
    clearTimeout(this.#lossTimer)
  }
}
