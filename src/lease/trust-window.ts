import type { AcquireRow } from '../sql/acquire.js'

/** Milliseconds on CLOCK_MONOTONIC: one clock for every thread of the process (and the machine). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

const closed = -(2n ** 62n)

/**
 * How long a lease may be trusted: cell 0 is the local deadline (monotonic µs), cell 1 the
 * database's `expires_at` (epoch ms). Its own memory by default; shared with the renewer
 * thread while the lease is in the lease table (moveTo). Renewals only ever move the
 * deadline forward, whichever thread made them.
 * @internal
 */
export class TrustWindow {
  #cells: BigInt64Array<ArrayBufferLike>

  constructor(cells: BigInt64Array<ArrayBufferLike> = new BigInt64Array(2)) {
    this.#cells = cells
  }

  /**
   * The window lives in `cells` from now on (its value copied there): a lease table slot,
   * or memory of its own again when it leaves the table.
   */
  moveTo(cells: BigInt64Array<ArrayBufferLike>): void {
    Atomics.store(cells, 0, Atomics.load(this.#cells, 0))
    Atomics.store(cells, 1, Atomics.load(this.#cells, 1))
    this.#cells = cells
  }

  /**
   * Trust a renewal answer until `expires_at - now()` (database clock) after the request was
   * *sent*, minus a margin for a local clock that runs a little slow (2% of the ttl + 50 ms).
   */
  extend(row: AcquireRow, sentAtMs: number, ttlMs: number): void {
    if (!row.expires_at) return
    const remaining = row.expires_at.getTime() - row.db_now.getTime()
    const until = BigInt(Math.floor((sentAtMs + remaining - (ttlMs * 0.02 + 50)) * 1000))
    const cells = this.#cells
    for (;;) {
      const current = Atomics.load(cells, 0)
      if (current >= until || current === closed) return
      if (Atomics.compareExchange(cells, 0, current, until) === current) break
    }
    Atomics.store(cells, 1, BigInt(row.expires_at.getTime()))
  }

  /** Milliseconds of trust left (≤ 0: closed). */
  remainingMs(): number {
    return Number(Atomics.load(this.#cells, 0)) / 1000 - monotonicMs()
  }

  expiresAt(): Date {
    return new Date(Number(Atomics.load(this.#cells, 1)))
  }

  /** The lease is known to be gone: no renewal can reopen the window. */
  close(): void {
    Atomics.store(this.#cells, 0, closed)
  }
}
