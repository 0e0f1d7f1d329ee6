import { type ChildProcess, spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

/** Names the pid a demo worker or flow process expects as its parent (see orphan-guard.ts). @internal */
export const parentPidVariable = 'PGSLOTS_DEMO_PARENT'

/** Preloaded into every worker and flow process (NODE_OPTIONS reaches the flows a worker starts). */
const orphanGuard = new URL('./orphan-guard.js', import.meta.url).href

/** How long stopped processes get to end by themselves before they are killed. */
const graceMs = 3000

export type StopSignal = 'SIGINT' | 'SIGTERM'

/** The demo was stopped by a signal; the CLI exits 130 for SIGINT, 143 for SIGTERM. */
export class DemoInterrupted extends Error {
  readonly exitCode: number

  constructor(readonly signal: StopSignal) {
    super(`interrupted by ${signal}`)
    this.exitCode = signal === 'SIGINT' ? 130 : 143
  }
}

/**
 * Runs `script` once per environment and resolves with the exit codes. Each process leads a
 * process group of its own, which the flow processes it starts join: one signal to the
 * group reaches every one of them, and the terminal's Ctrl-C reaches only the demo, which
 * forwards it. The first SIGINT or SIGTERM goes to every group, and once they are all gone
 * this rejects with DemoInterrupted; a second one kills them hard and exits at once.
 * @example
 * const codes = await runWorkerProcesses(workerScript, [{ ...process.env, WORKER_ID: 'gpu-1' }])
 */
export async function runWorkerProcesses(script: string, envs: NodeJS.ProcessEnv[]): Promise<number[]> {
  const children = envs.map((env) =>
    spawn(process.execPath, [script], {
      env: {
        ...env,
        [parentPidVariable]: String(process.pid),
        NODE_OPTIONS: [env.NODE_OPTIONS, `--import=${orphanGuard}`].filter(Boolean).join(' '),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true, // setsid(): a process group (and session) of its own
    }),
  )
  const exits = children.map(
    (child) =>
      new Promise<number>((resolve) => {
        child.once('exit', (code) => resolve(code ?? 1))
        child.once('error', () => resolve(1))
      }),
  )
  let stop: { signal: StopSignal; groups: number[]; gone: Promise<void> } | undefined
  const onSignal = (signal: StopSignal) => {
    if (stop) {
      signalGroups(stop.groups, 'SIGKILL')
      process.exit(new DemoInterrupted(stop.signal).exitCode)
    }
    // Only groups whose leader still runs: a pid that was reaped may belong to anyone by now.
    const groups = children.filter(running).map((child) => child.pid!)
    stop = { signal, groups, gone: stopGroups(groups, signal) }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const codes = await Promise.all(exits)
    if (!stop) return codes
    await stop.gone
    throw new DemoInterrupted(stop.signal)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function running(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null
}

/** Sends `signal` to each group, waits until every process in them is gone, kills what is left after the grace period. */
async function stopGroups(groups: number[], signal: StopSignal): Promise<void> {
  signalGroups(groups, signal)
  const deadline = performance.now() + graceMs
  while (groups.some(groupExists)) {
    if (performance.now() > deadline) return signalGroups(groups, 'SIGKILL')
    await sleep(25)
  }
}

function signalGroups(groups: number[], signal: NodeJS.Signals): void {
  for (const group of groups) {
    try {
      process.kill(-group, signal)
    } catch {
      // ESRCH: that group has ended already.
    }
  }
}

function groupExists(group: number): boolean {
  try {
    process.kill(-group, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
