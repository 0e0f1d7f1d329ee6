import { PgSlotsError } from '../errors.js'
import type { AcquireRow } from '../sql/acquire.js'
import { monotonicMs, type TrustWindow } from './trust-window.js'

/** @internal */
export interface RenewalLoopOptions {
  ttlMs: number
  /** Every answer extends it. */
  trust: TrustWindow
  /** One renew call; a PgSlotsError means the lease is gone for good, any other error that the database was not reached. */
  renewOnce: () => Promise<AcquireRow>
  /** The database says the lease is gone; the loop has ended and the trust window is closed. Never after stop(). */
  onLost: (error: PgSlotsError) => void
  /** Monotonic milliseconds, the clock `dueAt` is read on; by default the one every thread shares. */
  clock?: () => number
}

/**
 * The renewal of one lease, the same on the holder's event loop and in the renewer thread:
 * renew at `dueAt`, then ttl/3 after each answer; retry an unreachable database every
 * min(ttl/10, 1 s) until stopped (the holder's trust window, not this loop, decides when
 * that is too late); end when the database says the lease is gone. Its timers never keep
 * a thread alive.
 * @internal
 */
export class RenewalLoop {
  readonly #o: RenewalLoopOptions
  readonly #clock: () => number
  #timer: NodeJS.Timeout | undefined
  /** Bumped by start(), stop() and a loss: an answer to an earlier run only extends the trust window. */
  #run = 0

  constructor(options: RenewalLoopOptions) {
    this.#o = options
    this.#clock = options.clock ?? monotonicMs
  }

  /** Renews at `dueAt` on the loop's clock (at once if that has passed), replacing any earlier schedule. */
  start(dueAt: number): void {
    this.#schedule(++this.#run, dueAt - this.#clock())
  }

  stop(): void {
    this.#run++
    clearTimeout(this.#timer)
  }

  #schedule(run: number, delayMs: number): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#renew(run), Math.max(0, delayMs))
    this.#timer.unref()
  }

  async #renew(run: number): Promise<void> {
    const { trust, ttlMs } = this.#o
    const sentAt = this.#clock()
    try {
      const row = await this.#o.renewOnce()
      // A true answer whatever became of this run meanwhile: the window only moves forward.
      trust.extend(row, sentAt, ttlMs)
      if (run === this.#run) this.#schedule(run, ttlMs / 3)
    } catch (error) {
      if (run !== this.#run) return
      if (!(error instanceof PgSlotsError)) return this.#schedule(run, Math.min(ttlMs / 10, 1000))
      // Expired, revoked or released elsewhere: lost for good.
      this.#run++
      trust.close()
      this.#o.onLost(error)
    }
  }
}
