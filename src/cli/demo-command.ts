import type { Command } from 'commander'
import { type Phase, runImagePipeline } from '../demo/image-pipeline.js'
import { renderTimeline, summarize } from '../demo/timeline.js'
import { startEmbeddedPostgres } from '../embedded-postgres.js'
import { type GlobalOptions, openCoordinator } from './context.js'
import { parseNumber } from './parse.js'

function progressLine(phases: Map<string, Phase[]>, elapsedMs: number): string {
  const parts = [...phases].map(([worker, list]) => {
    const n = (p: Phase) => list.filter((x) => x === p).length
    return `${worker}: ${n('download')} downloading, ${n('wait')} waiting, ${n('gpu')} on GPU, ${n('save')} saving, ${n('done')} done`
  })
  return `t=${(elapsedMs / 1000).toFixed(1)}s  ${parts.join(' | ')}`
}

/** `pgslots demo`: the image pipeline on an embedded PostgreSQL (or DATABASE_URL). */
export function registerDemoCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('demo')
    .description('image pipeline: 2 workers × 10 flows, GPU limit 2 per worker, on an embedded PostgreSQL')
    .option('--speed <factor>', 'time scale (2 = twice as fast)', parseNumber, 1)
    .action(async (flags: { speed: number }) => {
      if (!(flags.speed > 0 && flags.speed <= 100)) throw Object.assign(new Error('--speed: must be between 0 and 100'), { usage: true })
      const url = global().databaseUrl ?? process.env.DATABASE_URL
      let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined
      if (!url) {
        process.stdout.write('starting an embedded PostgreSQL (set DATABASE_URL to use yours)…\n')
        embedded = await startEmbeddedPostgres()
      }
      const slots = openCoordinator({ ...global(), databaseUrl: url ?? embedded?.url })
      try {
        await slots.migrate()
        const tty = process.stdout.isTTY
        let lastPrinted = -1000
        const records = await runImagePipeline(slots, {
          workers: ['gpu-1', 'gpu-2'],
          flowsPerWorker: 10,
          gpuSlots: 2,
          speed: flags.speed,
          onProgress: (phases, elapsed) => {
            if (tty) process.stdout.write(`\r\x1b[2K${progressLine(phases, elapsed)}`)
            else if (elapsed - lastPrinted >= 1000) {
              lastPrinted = elapsed
              process.stdout.write(`${progressLine(phases, elapsed)}\n`)
            }
          },
        })
        if (tty) process.stdout.write('\n')
        process.stdout.write(`\n${renderTimeline(records)}\n\n${summarize(records, 2, 10).join('\n')}\n`)
      } finally {
        await slots.close()
        await embedded?.stop()
      }
    })
}
