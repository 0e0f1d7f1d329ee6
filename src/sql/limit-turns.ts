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
 * lock never waits for the network. Only acquires that succeeded with no other call of their
 * limit in flight are timed: they waited for nobody here. Releases are not: one that hands
 * nothing out answers before its WAL flush, so its time says little of the round trip and
 * less of the lock's (timed, it would narrow an uncontended limit to one call in flight,
 * which lost a fifth of its cycles in docs/performance.md). A call that has not answered within
 * `giveUpMs` (a hung connection) gives its place up, and the next one then waits in the
 * database as it would without turns. Calls on several limits lock their rows in name order
 * there and take no turn.
 * @internal
 */
export class LimitTurns {
  /** Per limit with calls in flight or waiting: how many are in flight, the waiting ones (oldest first), calls started so far. */
  readonly #limits = new Map<string, { inFlight: number; waiting: Array<() => void>; started: number }>()
  readonly #giveUpMs: number
  readonly #busyMs: number
  readonly #now: () => number
  /** The fastest timed call of the last full window of 64, and of the current one (ms). */
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

  /** `timed`: whether the call's time may set the width (see above). */
  async take<T>(names: readonly string[], call: () => Promise<T>, timed = true): Promise<T> {
    if (names.length !== 1) return call()
    const name = names[0]!
    let limit = this.#limits.get(name)
    if (!limit) this.#limits.set(name, (limit = { inFlight: 0, waiting: [], started: 0 }))
    // Behind the calls already waiting; a place is counted for a waiting call when it is let in.
    if (limit.waiting.length > 0 || limit.inFlight >= this.width) await new Promise<void>((resolve) => limit.waiting.push(resolve))
    else limit.inFlight++
    const startedBefore = limit.started++
    const alone = limit.inFlight === 1
    let done = false
    const leave = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      limit.inFlight--
      while (limit.waiting.length > 0 && limit.inFlight < this.width) {
        limit.inFlight++
        limit.waiting.shift()!()
      }
      if (limit.inFlight === 0 && limit.waiting.length === 0) this.#limits.delete(name)
    }
    const timer = setTimeout(leave, this.#giveUpMs).unref()
    const at = this.#now()
    try {
      const result = await call()
      // Not one that outlasted its turn, nor one that shared its limit with another call.
      if (timed && !done && alone && limit.started === startedBefore + 1) this.#observe(this.#now() - at)
      return result
    } finally {
      leave()
    }
  }

  #observe(ms: number): void {
    this.#windowFastestMs = Math.min(this.#windowFastestMs, ms)
    if (++this.#windowCalls < 64) return
    this.#fastestMs = this.#windowFastestMs
    this.#windowFastestMs = Infinity
    this.#windowCalls = 0
  }
}

/** `call` in its turn when the context has turns, else at once. @internal */
export function inTurn<T>(
  ctx: { turns?: LimitTurns | undefined },
  names: readonly string[],
  call: () => Promise<T>,
  timed = true,
): Promise<T> {
  return ctx.turns ? ctx.turns.take(names, call, timed) : call()
}
