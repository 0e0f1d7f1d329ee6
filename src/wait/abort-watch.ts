/**
 * The waits of a process watching the same AbortSignal (every request of a coordinator
 * watches its closing signal) share one 'abort' listener on it. Node's EventTarget walks
 * its whole list of listeners on every add, so one listener per sleeping waiter made each
 * sleep cost time in proportion to the waiters already sleeping in the process.
 * @internal
 */
export class AbortWatch {
  readonly #watching = new Map<AbortSignal, { onAbort: Set<() => void>; listener: () => void }>()

  /**
   * Calls `onAbort` once when `signal` aborts, unless the returned function was called
   * first. An already aborted signal calls it at once.
   */
  watch(signal: AbortSignal, onAbort: () => void): () => void {
    if (signal.aborted) {
      onAbort()
      return () => {}
    }
    let watched = this.#watching.get(signal)
    if (!watched) {
      const callbacks = new Set<() => void>()
      const listener = () => {
        this.#watching.delete(signal)
        for (const callback of callbacks) callback()
      }
      watched = { onAbort: callbacks, listener }
      this.#watching.set(signal, watched)
      signal.addEventListener('abort', listener, { once: true })
    }
    const { onAbort: callbacks, listener } = watched
    callbacks.add(onAbort)
    return () => {
      if (!callbacks.delete(onAbort) || callbacks.size > 0 || this.#watching.get(signal)?.listener !== listener) return
      this.#watching.delete(signal)
      signal.removeEventListener('abort', listener)
    }
  }
}
