import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The compiled worker (npm test builds first; `tsc -p tsconfig.build.json` for a lone vitest run). */
export function builtHelper(name: string): string {
  // From the sources (vitest) the compiled helpers are under dist/; compiled, they are siblings.
  const compiled = import.meta.url.endsWith('.js')
  const path = fileURLToPath(new URL(compiled ? `./${name}.js` : `../../dist/test/helpers/${name}.js`, import.meta.url))
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`)
  return path
}

/** Runs a helper script in its own OS process; resolves with its JSON stdout lines. */
export function runWorker<Event = Record<string, unknown>>(name: string, job: object): Promise<Event[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [builtHelper(name), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (err += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${name} exited with ${code}: ${err}`))
      resolve(
        out
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Event),
      )
    })
  })
}

/** A running helper process: its first JSON line, and a kill that resolves with every line it printed. */
export interface RunningWorker<Event> {
  first: Event
  /** Every line it printed, once it exits by itself. */
  exited: Promise<Event[]>
  /** The lines printed so far. */
  printed(): Event[]
  kill(signal?: NodeJS.Signals): Promise<Event[]>
}

/** A helper process that keeps running; resolves its first JSON line, and lets the test kill it. */
export async function startWorker<Event = Record<string, unknown>>(name: string, job: object): Promise<RunningWorker<Event>> {
  const child = spawn(process.execPath, [builtHelper(name), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (chunk) => (err += chunk))
  const lines: Event[] = []
  let out = ''
  const exited = new Promise<Event[]>((resolve) => child.once('close', () => resolve(lines)))
  const first = await new Promise<Event>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk
      const parts = out.split('\n')
      out = parts.pop()!
      for (const line of parts) if (line) lines.push(JSON.parse(line) as Event)
      if (lines.length > 0) resolve(lines[0]!)
    })
    child.once('close', (code) => reject(new Error(`${name} exited with ${code} before reporting: ${err}`)))
  })
  return {
    first,
    exited,
    printed: () => [...lines],
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
