import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built CLI (npm test builds first). */
export const cliPath = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `pgslots ARGS` as a real process with exactly `env` (plus PATH). */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return runNode(cliPath, args, env)
}

/** Runs `node SCRIPT ARGS` as a real process with exactly `env` (plus PATH). */
export function runNode(script: string, args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env: { PATH: process.env.PATH, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
