import type { Command } from 'commander'
import { type GlobalOptions, openCoordinator, withCoordinator } from './context.js'
import { parseInteger } from './parse.js'

function say(global: GlobalOptions, json: unknown, text: string): void {
  process.stdout.write(global.json ? `${JSON.stringify(json)}\n` : `${text}\n`)
}

/** `pgslots migrate` and `pgslots reaper ...` */
export function registerAdminCommands(program: Command, global: () => GlobalOptions): void {
  program
    .command('migrate')
    .description('create or upgrade the pgslots schema (idempotent)')
    .action(async () => {
      const result = await withCoordinator(global(), (s) => s.migrate())
      say(global(), result, result.applied.length ? `applied ${result.applied.join(', ')}` : 'schema is up to date')
    })

  program
    .command('grant')
    .description('give database roles access: --worker (acquire/release), --reader (views), --admin (limits, revoke)')
    .option('--worker <role>', 'may acquire, wait, renew, release and reap')
    .option('--reader <role>', 'may SELECT the dashboard views')
    .option('--admin <role>', 'worker + reader + limits administration and revoke')
    .action(async (flags: { worker?: string; reader?: string; admin?: string }) => {
      await withCoordinator(global(), (s) => s.grant(flags))
      const granted = Object.entries(flags).map(([kind, role]) => `${kind} ${role}`)
      say(global(), flags, `granted ${granted.join(', ')}`)
    })

  const reaper = program.command('reaper').description('expire leases and waiters of crashed holders')
  reaper
    .command('run')
    .description('reap in a loop (leader-elected per pass), or once with --once')
    .option('--once', 'one pass, then exit')
    .option('--interval <ms>', 'pause between passes', parseInteger, 5000)
    .option('--verbose', 'also report passes that found nothing to do')
    .action(async (flags: { once?: boolean; interval: number; verbose?: boolean }) => {
      const slots = openCoordinator(global(), { listen: false })
      const stop = new AbortController()
      process.once('SIGINT', () => stop.abort())
      process.once('SIGTERM', () => stop.abort())
      try {
        do {
          const result = await slots.reap()
          const empty = !result || result.expiredLeases + result.expiredWaiters + result.prunedHistory === 0
          // A loop stays quiet on empty passes (one line per 5 s would bury the ones that matter).
          if (flags.once || flags.verbose || !empty) {
            say(global(), result, result ? `reaped ${result.expiredLeases} leases, ${result.expiredWaiters} waiters, pruned ${result.prunedHistory} history rows` : 'another process is reaping')
          }
          if (flags.once) break
          await new Promise((r) => setTimeout(r, flags.interval)).catch(() => {})
        } while (!stop.signal.aborted)
      } finally {
        await slots.close()
      }
    })
  reaper
    .command('install-cron')
    .description('schedule reap() with pg_cron')
    .option('--schedule <cron>', 'cron schedule (pg_cron >= 1.5 also takes "10 seconds")', '* * * * *')
    .action(async (flags: { schedule: string }) => {
      const jobId = await withCoordinator(global(), (s) => s.installCron(flags.schedule))
      say(global(), { jobId }, `pg_cron job ${jobId} runs reap() on "${flags.schedule}"`)
    })
  reaper
    .command('uninstall-cron')
    .description('remove the pg_cron job')
    .action(async () => {
      const removed = await withCoordinator(global(), (s) => s.uninstallCron())
      say(global(), { removed }, removed ? 'pg_cron job removed' : 'no pg_cron job was installed')
    })
}
