import type { Command } from 'commander'
import type { Coordinator } from '../coordinator.js'
import type { LimitInfo } from '../limits/limits.js'
import { type GlobalOptions, jsonReplacer, openCoordinator } from './context.js'
import { parseInteger } from './parse.js'
import { listWaiters } from './waiters.js'

function bar(used: number, slots: number, width = 20): string {
  if (slots <= 0) return `[${' '.repeat(width)}]`
  const filled = Math.min(width, Math.round((used / slots) * width))
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

const holderText = (holder: unknown) => (typeof holder === 'string' ? holder : JSON.stringify(holder))
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** One line per limit: a template holds no slots, so it gets no bar, only what it creates. */
function limitLine(l: LimitInfo): string {
  const name = l.name.padEnd(28)
  if (l.kind === 'template') return `  ${name} template: creates limits of ${plural(l.slots, 'slot')}${l.active ? '' : ' (inactive)'}`
  const state = l.active ? '' : ' (inactive)'
  const denied = `${plural(l.deniedSlots, 'slot')} not granted at once`
  if (l.bucketLevel !== null) {
    const frees = l.bucketFreesAt ? `, next slot frees in ${((l.bucketFreesAt.getTime() - Date.now()) / 1000).toFixed(1)}s` : ''
    return `  ${name} ${bar(l.bucketLevel, l.slots)} ${l.bucketLevel.toFixed(1)}/${l.slots} budget used${frees}, ${l.waiting} waiting, ${denied}${state}`
  }
  return `  ${name} ${bar(l.activeSlots, l.slots)} ${l.activeSlots}/${l.slots} used, ${l.waiting} waiting, ${denied}${state}`
}

/** One frame of the live view; `data` has the shapes of `limit ls --json` and `lease ls --json`. */
export async function renderFrame(slots: Coordinator, prefix?: string): Promise<{ text: string; data: object }> {
  const [limits, leases, waiting] = await Promise.all([
    slots.limits.list(prefix ? { prefix } : {}),
    slots.leases.list().then((all) => all.slice(0, 50)),
    listWaiters(slots, { max: 50 }),
  ])
  const now = Date.now()
  const lines = [`pgslots watch: schema ${slots.schema}, ${new Date().toISOString()}`, '', 'LIMITS']
  for (const l of limits) lines.push(limitLine(l))
  lines.push('', 'HOLDERS')
  for (const h of leases) {
    const left = ((h.expiresAt.getTime() - now) / 1000).toFixed(1)
    lines.push(`  #${h.fencingToken} ${holderText(h.holder)} holds ${h.occupy} on ${h.names.join(', ')} (expires in ${left}s)`)
  }
  lines.push('', 'WAITING')
  for (const w of waiting) {
    const age = ((now - w.waitingSince.getTime()) / 1000).toFixed(1)
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
          // Redraw in place only on a terminal; a file or pipe gets frames one after another.
          else if (flags.once) process.stdout.write(frame.text)
          else process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${frame.text}` : `${frame.text}\n`)
          if (flags.once) break
          await new Promise((r) => setTimeout(r, flags.interval))
        }
      } finally {
        await slots.close()
      }
    })
}
