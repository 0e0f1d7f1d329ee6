import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * A folder the package ships, found from both `src/` (tests) and `dist/src/` (the package):
 * the first of `candidates` (relative to this file) that holds `marker`.
 * @internal
 */
export function packageDir(what: string, candidates: string[], marker: string): string {
  for (const relative of candidates) {
    const dir = fileURLToPath(new URL(relative, import.meta.url))
    if (existsSync(`${dir}/${marker}`)) return dir
  }
  throw new Error(`pgslots: ${what} not found next to the package`)
}
