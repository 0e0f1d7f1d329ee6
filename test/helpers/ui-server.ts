import { spawn } from 'node:child_process'
import { cliPath } from './cli.js'

export interface RunningUi {
  url: string
  stderr(): string
  stop(): Promise<void>
}

/** `pgslots ui ARGS` as a real process; resolves with the URL from its first stdout line. */
export function startUi(args: string[], env: Record<string, string | undefined>): Promise<RunningUi> {
  const child = spawn(process.execPath, [cliPath, 'ui', '--port', '0', ...args], { env: { PATH: process.env.PATH, ...env } })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (c) => (stderr += c))
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      stdout += c
      const line = /^pgslots ui: (http:\/\/\S+)\n/.exec(stdout)
      if (line)
        resolve({
          url: line[1]!,
          stderr: () => stderr,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM')
            await exited
          },
        })
    })
    void exited.then(() => reject(new Error(`pgslots ui exited before printing its URL: ${stdout}${stderr}`)))
  })
}
