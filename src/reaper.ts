import { reapIfLeader } from './sql/reap.js'
import type { SqlContext } from './sql/context.js'

/**
 * The in-process reaper: every `intervalMs` (jittered) one reap pass, done by whichever
 * coordinator wins the schema's advisory lock for that pass. Errors (schema not migrated
 * yet, database down) are retried at the next tick. Its timer never keeps a process alive.
 * @internal
 */
export class Reaper {
  readonly #ctx: SqlContext
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(ctx: SqlContext, intervalMs: number) {
    this.#ctx = ctx
    this.#intervalMs = intervalMs
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
    await reapIfLeader(this.#ctx).catch(() => {})
    this.#schedule()
  }
}
