import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The compiled worker (npm test builds first; `tsc -p tsconfig.build.json` for a lone vitest run). */
export function builtHelper(name: string): string {
  const path = fileURLToPath(new URL(`../../dist/test/helpers/${name}.js`, import.meta.url))
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
