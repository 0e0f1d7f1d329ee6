import type { Command } from 'commander'
import type { Coordinator } from '../coordinator.js'
import { type GlobalOptions, jsonReplacer, openCoordinator } from './context.js'
import { parseInteger } from './parse.js'

function bar(used: number, slots: number, width = 20): string {
  if (slots <= 0) return `[${' '.repeat(width)}]`
  const filled = Math.min(width, Math.round((used / slots) * width))
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

const holderText = (holder: unknown) => (typeof holder === 'string' ? holder : JSON.stringify(holder))

/** One frame of the live view, from the dashboard views. */
export async function renderFrame(slots: Coordinator, prefix?: string): Promise<{ text: string; data: object }> {
  let limitsQuery = slots.db.selectFrom('limit_status').selectAll().orderBy('name')
  if (prefix) limitsQuery = limitsQuery.where('name', 'like', `${prefix.replace(/[\\%_]/g, '\\$&')}%`)
  const [limits, leases, waiting] = await Promise.all([
    limitsQuery.execute(),
    slots.db.selectFrom('active_leases').select(['fencing_token', 'names', 'occupy', 'holder', 'expires_at']).orderBy('fencing_token').limit(50).execute(),
    slots.db.selectFrom('waiting').select(['ticket', 'names', 'occupy', 'holder', 'created_at', 'priority']).orderBy('priority', 'desc').orderBy('ticket').limit(50).execute(),
  ])
  const now = Date.now()
  const lines = [`pgslots watch: schema ${slots.schema}, ${new Date().toISOString()}`, '', 'LIMITS']
  for (const l of limits) {
    const state = l.active ? '' : ' (inactive)'
    lines.push(`  ${l.name.padEnd(28)} ${bar(l.used, l.slots)} ${l.used}/${l.slots} used, ${l.waiting} waiting, ${l.denied} ${Number(l.denied) === 1 ? "slot" : "slots"} not granted at once${state}`)
  }
  lines.push('', 'HOLDERS')
  for (const h of leases) {
    const left = ((new Date(h.expires_at).getTime() - now) / 1000).toFixed(1)
    lines.push(`  #${h.fencing_token} ${holderText(h.holder)} holds ${h.occupy} on ${h.names.join(', ')} (expires in ${left}s)`)
  }
  lines.push('', 'WAITING')
  for (const w of waiting) {
    const age = ((now - new Date(w.created_at).getTime()) / 1000).toFixed(1)
    const priority = w.priority === 0 ? '' : ` (priority ${w.priority})`
    lines.push(`  ticket ${w.ticket} ${holderText(w.holder)} wants ${w.occupy} on ${w.names.join(', ')} for ${age}s${priority}`)
  }
  return { text: `${lines.join('\n')}\n`, data: { limits, leases, waiting } }
}

/** `pgslots watch`: a live, refreshing view of limits, holders and waiters. */
export function registerWatchCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('watch')
    .description('live view of limits, holders and waiters')
    .option('--prefix <prefix>', 'only limits whose name starts with this')
    .option('--interval <ms>', 'refresh interval', parseInteger, 1000)
    .option('--once', 'print one frame and exit')
    .action(async (flags: { prefix?: string; interval: number; once?: boolean }) => {
      const slots = openCoordinator(global(), { listen: false })
      let stopped = false
      const stop = () => {
        stopped = true
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      try {
        while (!stopped) {
          const frame = await renderFrame(slots, flags.prefix)
          if (global().json) process.stdout.write(`${JSON.stringify(frame.data, jsonReplacer)}\n`)
          else process.stdout.write(flags.once ? frame.text : `\x1b[2J\x1b[H${frame.text}`)
          if (flags.once) break
          await new Promise((r) => setTimeout(r, flags.interval))
        }
      } finally {
        await slots.close()
      }
    })
}
