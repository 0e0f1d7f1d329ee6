/**
 * Acquires and releases of one limit take turns within a coordinator, in the order they were made.
 *
 * Every acquire and release on a limit locks its row `FOR UPDATE`, so such calls run one after
 * another in the database anyway. One that waits for the row lock there costs the server a
 * sleeping backend, a wake-up and a re-check of the row it waited for; waiting here costs a
 * promise. Under contention in one process this takes about a third of the server's CPU per
 * acquisition away (docs/performance.md).
 *
 * The row lock is held only while the server works on a call, not while the call travels, so
 * as many calls are let through at once as keep about `busyMs` of the fastest recent call's
 * time in flight: one for a database on the same machine, more the farther it is, so the
 * lock never waits for the network. A call that has not answered within `giveUpMs` (a hung
 * connection) gives its place up to the next one, which then waits in the database as it
 * would without turns. Calls on several limits lock their rows in name order there and take
 * no turn.
 * @internal
 */
export class LimitTurns {
  /** Per limit with calls in flight: how many, and the calls waiting, oldest first. */
  readonly #limits = new Map<string, { inFlight: number; waiting: Array<() => void> }>()
  readonly #giveUpMs: number
  readonly #busyMs: number
  readonly #now: () => number
  /** The fastest call of the last full window of calls, and of the current one (ms). */
  #fastestMs = 0
  #windowFastestMs = Infinity
  #windowCalls = 0

  constructor(o: { giveUpMs?: number; busyMs?: number; now?: () => number } = {}) {
    this.#giveUpMs = o.giveUpMs ?? 50
    this.#busyMs = o.busyMs ?? 0.4
    this.#now = o.now ?? (() => performance.now())
  }

  /** Calls let through at once per limit. */
  get width(): number {
    return Math.max(1, Math.ceil(this.#fastestMs / this.#busyMs))
  }

  async take<T>(names: readonly string[], call: () => Promise<T>): Promise<T> {
    if (names.length !== 1) return call()
    const name = names[0]!
    let limit = this.#limits.get(name)
    if (!limit) this.#limits.set(name, (limit = { inFlight: 0, waiting: [] }))
    // A call that waits is handed its place by one that leaves: inFlight counts it already.
    if (limit.inFlight >= this.width) await new Promise<void>((resolve) => limit.waiting.push(resolve))
    else limit.inFlight++
    let done = false
    const leave = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      const next = limit.waiting.shift()
      if (next) next()
      else if (--limit.inFlight === 0) this.#limits.delete(name)
    }
    const timer = setTimeout(leave, this.#giveUpMs).unref()
    const started = this.#now()
    try {
      return await call()
    } finally {
      this.#observe(this.#now() - started)
      leave()
    }
  }

  /** Keeps the fastest call of the last 64: a floor of round trip and server time, without waits. */
  #observe(ms: number): void {
    this.#windowFastestMs = Math.min(this.#windowFastestMs, ms)
    if (++this.#windowCalls < 64) return
    this.#fastestMs = this.#windowFastestMs
    this.#windowFastestMs = Infinity
    this.#windowCalls = 0
  }
}

/** `call` in its turn when the context has turns, else at once. @internal */
export function inTurn<T>(ctx: { turns?: LimitTurns | undefined }, names: readonly string[], call: () => Promise<T>): Promise<T> {
  return ctx.turns ? ctx.turns.take(names, call) : call()
}
