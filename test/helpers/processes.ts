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

/** A helper process that keeps running; resolves its first JSON line, and lets the test kill it. */
export async function startWorker<Event = Record<string, unknown>>(
  name: string,
  job: object,
): Promise<{ first: Event; kill(signal?: NodeJS.Signals): Promise<void> }> {
  const child = spawn(process.execPath, [builtHelper(name), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (chunk) => (err += chunk))
  const first = await new Promise<Event>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const line = out.split('\n')[0]
      if (out.includes('\n') && line) resolve(JSON.parse(line) as Event)
    })
    child.on('close', (code) => reject(new Error(`${name} exited with ${code} before reporting: ${err}`)))
  })
  return {
    first,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill(signal)
      }),
  }
}
