import { type Command, Option } from 'commander'
import type { LimitInfo, LimitSettings } from '../limits/limits.js'
import { type GlobalOptions, printObject, printRows, withCoordinator } from './context.js'
import { UsageError } from './errors.js'
import { parseInteger, parseNumber } from './parse.js'
import { listWaiters } from './waiters.js'

const columns = ['name', 'state', 'slots', 'used', 'waiting', 'decay/s', 'bucket', 'denied', 'avg held s', 'from']

/**
 * A limit as a row of `limit ls` (short headers, to fit 100 columns); --json prints the
 * LimitInfo itself. `bucket` is a rate limit's budget in use, `from` its template.
 */
function limitRow(l: LimitInfo): Record<string, unknown> {
  return {
    name: l.name,
    state: l.kind === 'template' ? 'template' : l.active ? 'active' : 'inactive',
    slots: l.slots,
    used: l.activeSlots,
    waiting: l.waiting,
    'decay/s': l.slotDecayPerSecond || '',
    bucket: l.bucketLevel === null ? '' : l.bucketLevel.toFixed(2),
    denied: l.deniedSlots,
    'avg held s': l.avgSlotOccupancySeconds.toFixed(1),
    from: l.template ?? '',
  }
}

interface SettingFlags {
  slots?: number
  limit?: number
  slotDecayPerSecond?: number
  disable?: boolean
  enable?: boolean
}

function settingsFrom(flags: SettingFlags): Partial<LimitSettings> {
  const slots = flags.slots ?? flags.limit
  const active = flags.disable ? false : flags.enable ? true : undefined
  return {
    ...(slots !== undefined && { slots }),
    ...(active !== undefined && { active }),
    ...(flags.slotDecayPerSecond !== undefined && { slotDecayPerSecond: flags.slotDecayPerSecond }),
  }
}

function addSettingFlags(command: Command): Command {
  return command
    .option('--slots <n>', 'number of slots', parseInteger)
    .addOption(new Option('--limit <n>', 'same as --slots (prefect gcl spelling)').argParser(parseInteger).conflicts('slots'))
    .option('--slot-decay-per-second <rate>', 'turn the limit into a rate limit draining at this rate', parseNumber)
    .option('--disable', 'inactive: never blocks, counts nothing')
}

/** `pgslots limit ...` */
export function registerLimitCommands(program: Command, global: () => GlobalOptions): void {
  const limit = program.command('limit').description('create, inspect and change limits')

  addSettingFlags(limit.command('create <name>').description('create a limit (fails if it exists)')).action(
    async (name: string, flags: SettingFlags) => {
      const settings = settingsFrom(flags)
      if (settings.slots === undefined) throw new UsageError('limit create needs --slots N (or --limit N)')
      const info = await withCoordinator(global(), (s) => s.limits.create(name, { ...settings, slots: settings.slots! }))
      printObject(global(), info as unknown as Record<string, unknown>)
    },
  )

  addSettingFlags(limit.command('update <name>').description('change settings of a limit, or rename it'))
    .addOption(new Option('--enable', 'make the limit active again').conflicts('disable'))
    .option('--name <new-name>', 'rename the limit (refused while any lease or waiter names it)')
    .action(async (name: string, flags: SettingFlags & { name?: string }) => {
      const settings = { ...settingsFrom(flags), ...(flags.name !== undefined && { name: flags.name }) }
      if (Object.keys(settings).length === 0) {
        throw new UsageError('limit update needs something to change: --slots, --slot-decay-per-second, --enable, --disable or --name')
      }
      const info = await withCoordinator(global(), (s) => s.limits.update(name, settings))
      printObject(global(), info as unknown as Record<string, unknown>)
    })

  limit
    .command('ls')
    .description('list limits (reads the limit_status view)')
    .option('--prefix <prefix>', 'only names starting with this')
    .action(async (flags: { prefix?: string }) => {
      const limits = await withCoordinator(global(), (s) => s.limits.list(flags.prefix ? { prefix: flags.prefix } : {}))
      if (global().json) printRows(global(), limits as unknown as Array<Record<string, unknown>>, [])
      else printRows(global(), limits.map(limitRow), columns)
    })

  limit
    .command('inspect <name>')
    .description('show one limit with its holders and waiters')
    .action(async (name: string) => {
      const { info, holders, waiters } = await withCoordinator(global(), async (s) => ({
        info: await s.limits.get(name),
        holders: await s.leases.list({ limit: name }),
        waiters: await listWaiters(s, { limit: name }),
      }))
      if (global().json) return printObject(global(), { ...info, holders, waiters })
      printObject(global(), info as unknown as Record<string, unknown>)
      process.stdout.write(`\nholders (${holders.length})\n`)
      if (holders.length) printRows(global(), holders as unknown as Array<Record<string, unknown>>, ['fencingToken', 'occupy', 'holder', 'names', 'acquiredAt', 'expiresAt'])
      process.stdout.write(`\nwaiters (${waiters.length}, in order)\n`)
      if (waiters.length) printRows(global(), waiters as unknown as Array<Record<string, unknown>>, ['ticket', 'priority', 'occupy', 'holder', 'names', 'waitingSince'])
    })

  limit
    .command('delete <name>')
    .description('delete a limit (refused while leases hold slots on it, unless --force)')
    .option('--force', 'delete even with live leases: their holders keep running, no longer counted')
    .action(async (name: string, flags: { force?: boolean }) => {
      const info = await withCoordinator(global(), async (s) => {
        const held = await s.leases.list({ limit: name })
        if (held.length > 0 && !flags.force) {
          throw new Error(`limit ${name} has ${held.length} live lease(s); pass --force to delete it anyway`)
        }
        return s.limits.delete(name)
      })
      if (global().json) printObject(global(), { deleted: true, ...info })
      else process.stdout.write(`deleted limit ${name}\n`)
    })

  limit
    .command('apply-template <template>')
    .description("give every limit created from a template (e.g. 'gpu:*') the template's current settings")
    .action(async (name: string) => {
      const updated = await withCoordinator(global(), (s) => s.limits.applyTemplate(name))
      if (global().json) printObject(global(), { template: name, updated })
      else process.stdout.write(`updated ${updated} limit(s) created from ${name}\n`)
    })

  for (const [verb, describe] of [
    // Idempotent, unlike prefect gcl (exit 1 "already active"): a script or a deploy step
    // states the state it wants and may run twice.
    ['enable', 'activate a limit (already active: no change, exit 0)'],
    ['disable', 'deactivate a limit: never blocks, counts nothing (already inactive: no change, exit 0)'],
  ] as const) {
    limit
      .command(`${verb} <name>`)
      .description(describe)
      .action(async (name: string) => {
        const info = await withCoordinator(global(), (s) => s.limits[verb](name))
        printObject(global(), info as unknown as Record<string, unknown>)
      })
  }
}
