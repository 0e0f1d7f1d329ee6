import { spawn } from 'node:child_process'
import type { Command } from 'commander'
import type { Coordinator } from '../coordinator.js'
import { ImpossibleRequestError } from '../errors.js'
import { type GlobalOptions, openCoordinator } from './context.js'
import { parseInteger } from './parse.js'
import { InterruptedError, signalExitCode } from './signals.js'

interface RunFlags {
  occupy: number
  timeout?: number
  ttl?: number
  allowMissing?: boolean
  priority?: number
}

/**
 * `pgslots run NAME[,NAME] [-n occupy] -- CMD ARGS`: holds the slots while CMD runs,
 * forwards SIGINT/SIGTERM to it, exits with its code, and stops it if the lease is lost.
 */
export function registerRunCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('run')
    .description('hold slots while a command runs: pgslots run gpu:gpu-1 -n 1 -- python train.py')
    .argument('<names>', 'limit name(s), comma separated')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-n, --occupy <n>', 'slots to take on each limit', parseInteger, 1)
    .option('--timeout <ms>', 'give up waiting for the slots after this long', parseInteger)
    .option('--ttl <ms>', 'lease ttl (renewed every ttl/3)', parseInteger)
    .option('--priority <n>', 'place in line, -1000 to 1000: higher is served first (default 0)', parseInteger)
    .option('--allow-missing', 'run unguarded (with a warning) for limits that do not exist, instead of failing')
    .action(async (names: string, command: string[], flags: RunFlags) => {
      // A typo must not run the command unguarded: missing limits fail unless asked.
      const list = names.split(',').map((name) => name.trim())
      const slots = openCoordinator(global(), {
        onWarning: (message) =>
          process.stderr.write(`pgslots: warning: ${message.replace(/\(.*strict.*\)$/, '(--allow-missing was given)')}\n`),
      })
      const waiting = new AbortController()
      const giveUp = (signal: NodeJS.Signals) => waiting.abort(new InterruptedError(signal, 'waiting for slots'))
      process.once('SIGINT', giveUp)
      process.once('SIGTERM', giveUp)
      try {
        const lease = await slots
          .acquire(list, {
            occupy: flags.occupy,
            signal: waiting.signal,
            strict: !flags.allowMissing,
            ...(flags.priority !== undefined && { priority: flags.priority }),
            ...(flags.timeout !== undefined && { timeoutMs: flags.timeout }),
            ...(flags.ttl !== undefined && { ttlMs: flags.ttl }),
          })
          .catch(async (error: unknown) => {
            throw error instanceof ImpossibleRequestError ? ((await pausedLimitError(slots, list)) ?? error) : error
          })
        process.off('SIGINT', giveUp)
        process.off('SIGTERM', giveUp)
        const [file, ...args] = command as [string, ...string[]]
        const child = spawn(file, args, {
          stdio: 'inherit',
          env: { ...process.env, PGSLOTS_FENCING_TOKEN: lease.fencingToken.toString() },
        })
        const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
        const onInt = forward('SIGINT')
        const onTerm = forward('SIGTERM')
        process.on('SIGINT', onInt)
        process.on('SIGTERM', onTerm)
        let lost = false
        lease.signal.addEventListener('abort', () => {
          lost = true
          process.stderr.write(`pgslots: ${(lease.signal.reason as Error).message}; stopping the command\n`)
          child.kill('SIGTERM')
          setTimeout(() => child.kill('SIGKILL'), 5000).unref()
        })
        const code = await new Promise<number>((resolve) => {
          child.once('error', (error) => {
            process.stderr.write(`pgslots: cannot run ${file}: ${error.message}\n`)
            resolve(127)
          })
          child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? signalExitCode(signal) : 1)))
        })
        process.off('SIGINT', onInt)
        process.off('SIGTERM', onTerm)
        await lease.release().catch(() => {})
        process.exitCode = lost ? 1 : code
      } finally {
        await slots.close()
      }
    })
}

/**
 * A limit with 0 slots is paused by its admin, not too small for the request: say so.
 * (The limits are read through a view; a role that may not read it gets the plain error.)
 */
async function pausedLimitError(slots: Coordinator, names: string[]): Promise<Error | undefined> {
  const limits = await Promise.all(names.map((name) => slots.limits.get(name).catch(() => undefined)))
  const paused = limits.find((l) => l?.active && l.slots === 0)
  if (!paused) return undefined
  return new Error(
    `limit ${paused.name} is paused (slots 0): nothing is granted until an admin raises it with \`pgslots limit update ${paused.name} --slots N\``,
  )
}
