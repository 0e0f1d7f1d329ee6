import { type ReapResult, reapIfLeader } from '../sql/reap.js'
import type { SqlContext } from '../sql/context.js'

/**
 * The in-process reaper: every `intervalMs` (jittered) one reap pass, done by whichever
 * coordinator wins the schema's advisory lock for that pass. Errors (schema not migrated
 * yet, database down) are retried at the next tick. Its timer never keeps a process alive.
 * @internal
 */
export class Reaper {
  readonly #ctx: SqlContext
  readonly #intervalMs: number
  readonly #onReaped: (result: ReapResult) => void
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(ctx: SqlContext, intervalMs: number, onReaped: (result: ReapResult) => void) {
    this.#ctx = ctx
    this.#intervalMs = intervalMs
    this.#onReaped = onReaped
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => void this.#tick(), this.#intervalMs * (0.8 + Math.random() * 0.4))
    this.#timer.unref()
  }

  async #tick(): Promise<void> {
    const result = await reapIfLeader(this.#ctx).catch(() => null)
    if (result) this.#onReaped(result)
    this.#schedule()
  }
}
