import type { AcquireRow } from '../sql/acquire.js'

/**
 * What a request's answer should tell the user through `onWarning`: names that do not
 * exist (once per name per coordinator: the code runs unguarded for them), and limits the
 * request created from a template (each is created once, so each is told once: a misspelt
 * name a template covers would otherwise become a permanent limit unseen). @internal
 */
export class RequestWarnings {
  readonly #warnedMissing = new Set<string>()
  readonly #warn: (message: string) => void

  constructor(warn: (message: string) => void) {
    this.#warn = warn
  }

  report(row: Pick<AcquireRow, 'missing' | 'created' | 'created_from'>): void {
    const fresh = (row.missing ?? []).filter((name) => !this.#warnedMissing.has(name))
    if (fresh.length > 0) {
      for (const name of fresh) this.#warnedMissing.add(name)
      this.#warn(`limit not found, running unguarded for: ${fresh.join(', ')} (the request option strict: true makes this an error)`)
    }
    for (const [i, name] of (row.created ?? []).entries()) this.#warn(`created ${name} from template ${row.created_from?.[i] ?? '?'}`)
  }
}
