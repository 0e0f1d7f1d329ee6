import type { Command } from 'commander'
import { type GlobalOptions, printRows, withCoordinator } from './context.js'

/** `pgslots lease ...` */
export function registerLeaseCommands(program: Command, global: () => GlobalOptions): void {
  const lease = program.command('lease').description('list and revoke leases')
  lease
    .command('ls')
    .description('list live leases (never their secret ids)')
    .option('--limit <name>', 'only leases on this limit')
    .action(async (flags: { limit?: string }) => {
      const leases = await withCoordinator(global(), (s) => s.leases.list(flags.limit ? { limit: flags.limit } : {}))
      printRows(global(), leases as unknown as Array<Record<string, unknown>>, [
        'fencingToken',
        'names',
        'occupy',
        'holder',
        'acquiredAt',
        'expiresAt',
      ])
    })
  lease
    .command('revoke <fencingToken>')
    .description('end a lease by its fencing token; its slots go to the next waiter')
    .action(async (token: string) => {
      const revoked = await withCoordinator(global(), (s) => s.leases.revoke(token))
      if (!revoked) throw new Error(`no live lease with fencing token ${token}`)
      if (global().json) process.stdout.write(`${JSON.stringify({ revoked, fencingToken: token })}\n`)
      else process.stdout.write(`revoked lease ${token}\n`)
    })
}
