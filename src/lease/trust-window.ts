import type { AcquireRow } from '../sql/acquire.js'

/** Milliseconds on CLOCK_MONOTONIC: one clock for every thread of the process (and the machine). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

const closed = -(2n ** 62n)

/**
 * How long a lease may be trusted, shared between the holder's thread and the renewer thread:
 * slot 0 is the local deadline (monotonic µs), slot 1 the database's `expires_at` (epoch ms).
 * Renewals only ever move the deadline forward, whichever thread made them.
 * @internal
 */
export class TrustWindow {
  readonly buffer: SharedArrayBuffer
  readonly #cells: BigInt64Array

  constructor(buffer = new SharedArrayBuffer(16)) {
    this.buffer = buffer
    this.#cells = new BigInt64Array(buffer)
  }

  /**
   * Trust a renewal answer until `expires_at - now()` (database clock) after the request was
   * *sent*, minus a margin for a local clock that runs a little slow (2% of the ttl + 50 ms).
   */
  extend(row: AcquireRow, sentAtMs: number, ttlMs: number): void {
    if (!row.expires_at) return
    const remaining = row.expires_at.getTime() - row.db_now.getTime()
    const until = BigInt(Math.floor((sentAtMs + remaining - (ttlMs * 0.02 + 50)) * 1000))
    for (;;) {
      const current = Atomics.load(this.#cells, 0)
      if (current >= until || current === closed) return
      if (Atomics.compareExchange(this.#cells, 0, current, until) === current) break
    }
    Atomics.store(this.#cells, 1, BigInt(row.expires_at.getTime()))
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
