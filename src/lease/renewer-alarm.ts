// The renewer thread's alarm clock: the thread sleeps until the first renewal it knows of
// comes due, so an idle process costs nothing between renewals, and a holder that puts a
// lease due sooner wakes it.

/** The longest the thread sleeps: it lets go of the slots of leases it renewed, once freed, at its next scan. */
export const idleScanMs = 1000

/** Atomics.waitAsync (Node ≥ 16; the TypeScript lib declares it from ES2024 on). */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: unknown }
}

/**
 * When the renewer thread scans the table next, and how to wake it sooner. The thread sleeps
 * until the first renewal it knows of comes due (at most idleScanMs), so an idle process
 * costs nothing between renewals; a holder that puts a lease due sooner rings it.
 * Word 0 counts the rings (Atomics.notify wakes a thread waiting on it); cell 1 (bytes 8-15)
 * is when the thread looks next, monotonic µs, the largest value while it has not said.
 * @internal
 */
export class Alarm {
  readonly #words: Int32Array
  readonly #cells: BigInt64Array

  readonly buffer: SharedArrayBuffer

  /** A new alarm (the holder's side), or the thread's view of `buffer`. */
  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(16)
    this.#words = new Int32Array(this.buffer)
    this.#cells = new BigInt64Array(this.buffer)
    if (!buffer) Atomics.store(this.#cells, 1, 2n ** 63n - 1n)
  }

  /** The holder's side, after the put that counted as a change: rings when the thread would look after `dueAt` (ms). */
  ringBefore(dueAt: number): void {
    if (BigInt(Math.floor(dueAt * 1000)) < Atomics.load(this.#cells, 1)) this.ring()
  }

  ring(): void {
    Atomics.add(this.#words, 0, 1)
    Atomics.notify(this.#words, 0)
  }

  /** The thread's side: the rings so far (read before a scan), and when it looks next. */
  rings(): number {
    return Atomics.load(this.#words, 0)
  }

  setFor(at: number): void {
    Atomics.store(this.#cells, 1, BigInt(Math.floor(at * 1000)))
  }

  /** Resolves after `ms`, or at once when rung since `seen`. */
  async sleep(seen: number, ms: number): Promise<void> {
    const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.#words, 0, seen, Math.max(0, ms))
    if (wait.async) await wait.value
  }
}
