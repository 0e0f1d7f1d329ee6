// Fleet: the contention scenario beside `size` other coordinators in
// other processes, each listening and waiting on a limit of its own. Every grant NOTIFYs
// only its waiter's process, so the fleet should cost little; the ratio to the run alone
// says how little.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Starts `size` coordinators over `processes` OS processes; resolves once all of them wait.
 * `tag` names their limits: a fleet killed earlier leaves its leases behind until their ttl.
 */
export async function startFleet(url: string, schema: string, size: number, processes: number, tag: string): Promise<{ stop(): Promise<void> }> {
  const worker = fileURLToPath(new URL('../fleet-worker.js', import.meta.url))
  const children: ChildProcess[] = []
  await Promise.all(
    Array.from({ length: processes }, (_, i) => {
      const coordinators = Math.floor(size / processes) + (i < size % processes ? 1 : 0)
      const child = spawn(process.execPath, [worker, JSON.stringify({ url, schema, coordinators, label: `${tag}-${i}` })], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      children.push(child)
      return new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('"ready"') && resolve())
        child.once('exit', (code) => reject(new Error(`fleet worker exited with ${code}`)))
      })
    }),
  )
  return {
    stop: () =>
      Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              child.removeAllListeners('exit')
              child.once('exit', () => resolve())
              child.kill('SIGKILL')
            }),
        ),
      ).then(() => {}),
  }
}
