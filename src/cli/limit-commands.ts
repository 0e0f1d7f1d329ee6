import type { Command } from 'commander'
import type { LimitInfo } from '../limits.js'
import { type GlobalOptions, printObject, printRows, withCoordinator } from './context.js'
import { parseInteger, parseNumber } from './parse.js'

const columns = ['name', 'slots', 'activeSlots', 'active', 'slotDecayPerSecond', 'deniedSlots', 'avgSlotOccupancySeconds']

interface SettingFlags {
  slots?: number
  limit?: number
  slotDecayPerSecond?: number
  disable?: boolean
  enable?: boolean
}

function settingsFrom(flags: SettingFlags): { slots?: number; active?: boolean; slotDecayPerSecond?: number } {
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
    .option('--limit <n>', 'same as --slots (prefect gcl spelling)', parseInteger)
    .option('--slot-decay-per-second <rate>', 'turn the limit into a rate limit draining at this rate', parseNumber)
    .option('--disable', 'inactive: never blocks, counts nothing')
}

/** `pgslots limit ...` */
export function registerLimitCommands(program: Command, global: () => GlobalOptions): void {
  const limit = program.command('limit').description('create, inspect and change limits')

  addSettingFlags(limit.command('create <name>').description('create a limit (fails if it exists)')).action(
    async (name: string, flags: SettingFlags) => {
      const info = await withCoordinator(global(), (s) => s.limits.create(name, settingsFrom(flags) as { slots: number }))
      printObject(global(), info as unknown as Record<string, unknown>)
    },
  )

  addSettingFlags(limit.command('update <name>').description('change settings of a limit'))
    .option('--enable', 'make the limit active again')
    .action(async (name: string, flags: SettingFlags) => {
      const info = await withCoordinator(global(), (s) => s.limits.update(name, settingsFrom(flags)))
      printObject(global(), info as unknown as Record<string, unknown>)
    })

  limit
    .command('ls')
    .description('list limits')
    .option('--prefix <prefix>', 'only names starting with this')
    .action(async (flags: { prefix?: string }) => {
      const limits = await withCoordinator(global(), (s) => s.limits.list(flags.prefix ? { prefix: flags.prefix } : {}))
      printRows(global(), limits as unknown as Array<Record<string, unknown>>, columns)
    })

  limit
    .command('inspect <name>')
    .description('show one limit with its holders and waiters')
    .action(async (name: string) => {
      await withCoordinator(global(), async (s) => {
        const info: LimitInfo = await s.limits.get(name)
        const holders = await s.leases.list({ limit: name })
        printObject(global(), { ...info, holders } as unknown as Record<string, unknown>)
      })
    })

  for (const [verb, describe] of [
    ['delete', 'delete a limit'],
    ['enable', 'activate a limit'],
    ['disable', 'deactivate a limit (never blocks, counts nothing)'],
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
