#!/usr/bin/env node
import { Command, CommanderError } from 'commander'
import { PgSlotsError, ValidationError } from '../errors.js'
import { registerAdminCommands } from './admin-commands.js'
import type { GlobalOptions } from './context.js'
import { registerDemoCommand } from './demo-command.js'
import { registerLeaseCommands } from './lease-commands.js'
import { registerLimitCommands } from './limit-commands.js'
import { registerMetricsCommand } from './metrics-command.js'
import { registerRunCommand } from './run-command.js'
import { registerWatchCommand } from './watch-command.js'

// Exit codes: 0 success, 1 runtime failure (database, not found, timeout, lease lost), 2 usage.
const program = new Command('pgslots')
  .description('Postgres-native concurrency limits: manage limits, leases and the reaper')
  .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL, then PG* variables)')
  .option('--schema <name>', 'pgslots schema', 'pgslots')
  .option('--json', 'machine-readable output')
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) })

const global = () => program.opts<GlobalOptions>()
registerAdminCommands(program, global)
registerLimitCommands(program, global)
registerLeaseCommands(program, global)
registerWatchCommand(program, global)
registerRunCommand(program, global)
registerDemoCommand(program, global)
registerMetricsCommand(program, global)

try {
  await program.parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version end here too; commander already printed its message.
    process.exitCode = error.exitCode === 0 ? 0 : 2
  } else {
    const usage = error instanceof ValidationError || (error as { usage?: boolean }).usage === true
    const message = error instanceof PgSlotsError ? error.message : ((error as Error).message ?? String(error))
    process.stderr.write(`pgslots: ${message}\n`)
    process.exitCode = usage ? 2 : 1
  }
}
