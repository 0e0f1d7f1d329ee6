import type { Command } from 'commander'
import { serveUi } from '../ui/server.js'
import { type GlobalOptions, openCoordinator } from './context.js'
import { parsePort } from './parse.js'

const wildcard = new Set(['0.0.0.0', '::', '[::]'])

/** `pgslots ui`: the live page (limits, holders, waiters, timeline, charts) on one port. */
export function registerUiCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('ui')
    .description('serve the live page at http://HOST:PORT/ (reader role is enough; --admin adds actions)')
    .option('--port <port>', 'port to listen on (0: any free port, printed)', parsePort, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--admin', 'offer enable/disable, change slots and revoke, as far as the role may')
    .action(async (flags: { port: number; host: string; admin?: boolean }) => {
      const slots = openCoordinator(global(), { listen: false })
      try {
        const ui = await serveUi(slots, { port: flags.port, host: flags.host, admin: flags.admin ?? false }).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'EADDRINUSE') throw new Error(`port ${flags.port} on ${flags.host} is already in use`)
          throw error
        })
        process.stdout.write(`pgslots ui: ${ui.url}\n`)
        if (wildcard.has(flags.host)) {
          process.stderr.write(`pgslots: warning: --host ${flags.host} serves the page (every holder label${flags.admin ? ', and admin actions' : ''}) to the network\n`)
        }
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
        await ui.close()
      } finally {
        await slots.close()
      }
    })
}
