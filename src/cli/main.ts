#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Command, CommanderError } from 'commander'
import { registerAdminCommands } from './admin-commands.js'
import { databaseTarget, type GlobalOptions } from './context.js'
import { describeError } from './errors.js'
import { registerDemoCommand } from './demo-command.js'
import { registerLeaseCommands } from './lease-commands.js'
import { registerLimitCommands } from './limit-commands.js'
import { registerMetricsCommand } from './metrics-command.js'
import { registerRunCommand } from './run-command.js'
import { registerUiCommand } from './ui-command.js'
import { registerWatchCommand } from './watch-command.js'

// Exit codes: 0 success, 1 runtime failure (database, not found, timeout, lease lost), 2 usage.
const program = new Command('pgslots')
  .description('Postgres-native concurrency limits: manage limits, leases and the reaper')
  .version(packageVersion(), '--version', 'print the pgslots version')
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({
    writeErr: (text) => process.stderr.write(text),
    // Usage errors: one line with the same prefix as every other error.
    outputError: (text, write) => write(`pgslots: ${text.replace(/^error: /, '').trimEnd()}\n`),
  })

/** Options every command takes, before or after its name (`pgslots limit ls --json` and `pgslots --json limit ls`). */
function addGlobalOptions(command: Command): void {
  command
    .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL, then PG* variables)')
    .option('--schema <name>', 'pgslots schema (default: pgslots)')
    .option('--json', 'machine-readable output')
}

const globalKeys = ['databaseUrl', 'schema', 'json'] as const

// The global options of the command being run, taken out of every command's own options
// before its action runs: an action receives only its own flags, so it can hand them on
// whole (grant does, and the library refuses options it does not know).
let globals: Partial<GlobalOptions> = {}
// 'lease ls': which command runs, for the hint after "permission denied".
let commandPath = ''
program.hook('preAction', (_program, actionCommand) => {
  const chain: Command[] = []
  for (let c: Command | null = actionCommand; c; c = c.parent) chain.unshift(c)
  commandPath = chain.slice(1).map((c) => c.name()).join(' ')
  // The value nearest the command wins (optsWithGlobals() would let the outer one win).
  // opts() is the command's own store of values, which commander hands to the action after
  // this hook; test/integration/cli-errors.test.ts (grant) fails if that ever changes.
  for (const command of chain) {
    const own = command.opts()
    for (const key of globalKeys) {
      if (own[key] !== undefined) globals = { ...globals, [key]: own[key] }
      delete own[key]
    }
  }
})
const global = (): GlobalOptions => {
  const { databaseUrl, schema, json } = globals
  return {
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    schema: schema ?? 'pgslots',
    ...(schema === undefined ? {} : { schemaGiven: true }),
    ...(json ? { json } : {}),
  }
}
registerAdminCommands(program, global)
registerLimitCommands(program, global)
registerLeaseCommands(program, global)
registerWatchCommand(program, global)
registerRunCommand(program, global)
registerDemoCommand(program, global)
registerMetricsCommand(program, global)
registerUiCommand(program, global)
for (const command of [program, ...allCommands(program)]) addGlobalOptions(command)

function allCommands(parent: Command): Command[] {
  return parent.commands.flatMap((command) => [command, ...allCommands(command)])
}

/** The version in the package's package.json (the CLI runs from dist/src/cli/). */
function packageVersion(): string {
  const path = fileURLToPath(new URL('../../../package.json', import.meta.url))
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
}

// `pgslots limit ls | head`: the reader went away; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

try {
  await program.parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version end here too; commander already printed its message.
    process.exitCode = error.exitCode === 0 ? 0 : 2
  } else {
    let target
    try {
      target = databaseTarget(global())
    } catch {
      target = undefined
    }
    const { line, code } = describeError(error, global().schema, target, commandPath)
    // Some library messages carry the prefix themselves; the user reads it once.
    process.stderr.write(`pgslots: ${line.replace(/^pgslots: /, '')}\n`)
    process.exitCode = code
  }
}
