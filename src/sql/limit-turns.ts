/**
 * One call at a time per limit from this coordinator, in the order they were made.
 *
 * Every acquire and release on a limit locks its row `FOR UPDATE`, so such calls run one after
 * another in the database anyway. One that waits for the row lock there costs the server a
 * sleeping backend, a wake-up and a re-check of the row it waited for; waiting here costs a
 * promise. Under contention in one process this takes about a third of the server's CPU per
 * acquisition away (docs/performance.md). A call that has not answered within `giveUpMs` (a
 * hung connection) hands its turn on, and the next one waits in the database as it would have
 * without turns. Calls on several limits lock their rows in name order there and take no turn.
 * @internal
 */
export class LimitTurns {
  /** Per limit with a call in flight: the calls waiting for their turn, oldest first. */
  readonly #waiting = new Map<string, Array<() => void>>()
  readonly #giveUpMs: number

  constructor(giveUpMs = 50) {
    this.#giveUpMs = giveUpMs
  }

  async take<T>(names: readonly string[], call: () => Promise<T>): Promise<T> {
    if (names.length !== 1) return call()
    const name = names[0]!
    const queue = this.#waiting.get(name)
    if (queue) await new Promise<void>((resolve) => queue.push(resolve))
    else this.#waiting.set(name, [])
    let handedOn = false
    const handOn = () => {
      if (handedOn) return
      handedOn = true
      clearTimeout(timer)
      const next = this.#waiting.get(name)!.shift()
      if (next) next()
      else this.#waiting.delete(name)
    }
    const timer = setTimeout(handOn, this.#giveUpMs).unref()
    try {
      return await call()
    } finally {
      handOn()
    }
  }
}

/** `call` in its turn when the context has turns, else at once. @internal */
export function inTurn<T>(ctx: { turns?: LimitTurns | undefined }, names: readonly string[], call: () => Promise<T>): Promise<T> {
  return ctx.turns ? ctx.turns.take(names, call) : call()
}
