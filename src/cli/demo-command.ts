import type { Command } from 'commander'
import { sql } from 'kysely'
import { type Phase, runPipeline } from '../demo/pipeline.js'
import { renderTimeline, summarize } from '../demo/timeline.js'
import { DemoInterrupted } from '../demo/worker-processes.js'
import { startEmbeddedPostgres } from '../demo/embedded-postgres.js'
import { serveUi, type UiServer } from '../ui/server.js'
import { databaseTarget, type GlobalOptions, openCoordinator } from './context.js'
import { UsageError } from './errors.js'
import { parseNumber } from './parse.js'

const workers = ['gpu-1', 'gpu-2']
const flowsPerWorker = 10
const gpuSlots = 2

function progressLine(phases: Map<string, Record<Phase, number>>, elapsedMs: number): string {
  const t = `t=${(elapsedMs / 1000).toFixed(1)}s`
  const seen = [...phases.values()].reduce((sum, n) => sum + n.download + n.wait + n.gpu + n.save + n.done, 0)
  if (seen === 0) return `${t}  starting ${workers.length} worker and ${workers.length * flowsPerWorker} flow processes…`
  const parts = [...phases].map(
    ([worker, n]) => `${worker}: ${n.download} downloading, ${n.wait} waiting, ${n.gpu} on GPU, ${n.save} saving, ${n.done} done`,
  )
  return `${t}  ${parts.join(' | ')}`
}

/** `pgslots demo`: the image pipeline example in real processes, on an embedded PostgreSQL or DATABASE_URL. */
export function registerDemoCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('demo')
    .description(
      `image pipeline: ${workers.length} worker processes × ${flowsPerWorker} flow processes, GPU limit ${gpuSlots} per worker (schema pgslots_demo unless --schema)`,
    )
    .option('--speed <factor>', 'time scale (2 = twice as fast)', parseNumber, 1)
    .option('--keep', 'with DATABASE_URL, keep the pgslots_demo schema afterwards (dropped by default)')
    .option('--ui', 'serve the live page (a free port on 127.0.0.1) while the flows run')
    .action(async (flags: { speed: number; keep?: boolean; ui?: boolean }) => {
      if (!(flags.speed > 0 && flags.speed <= 100)) {
        throw new UsageError(`--speed: must be greater than 0 and at most 100, got ${flags.speed}`)
      }
      // Never the user's own limits: a schema of its own unless told otherwise.
      const schema = global().schemaGiven ? global().schema : 'pgslots_demo'
      const configured = global().databaseUrl ?? process.env.DATABASE_URL
      let embedded: DemoDatabase | undefined
      if (configured) {
        const { where } = databaseTarget(global())
        process.stdout.write(`using schema ${schema} in ${where} (your other schemas are untouched; --schema to choose)\n`)
      } else {
        process.stdout.write('starting an embedded PostgreSQL (set DATABASE_URL to use yours)…\n')
        embedded = await startDemoDatabase()
      }
      const url = configured ?? embedded!.url
      const slots = openCoordinator({ ...global(), schema, databaseUrl: url }, { listen: false })
      let ui: UiServer | undefined
      try {
        await slots.migrate()
        if (flags.ui) {
          ui = await serveUi(slots, { port: 0 })
          process.stdout.write(`pgslots ui: ${ui.url} (until the demo ends)\n`)
        }
        process.stdout.write(`${workers.length} workers start ${flowsPerWorker} flow processes each…\n`)
        const tty = process.stdout.isTTY
        const started = performance.now()
        let lastPrinted = -1000
        const records = await runPipeline(slots, {
          url,
          schema,
          workers,
          flowsPerWorker,
          gpuSlots,
          speed: flags.speed,
          onProgress: (phases, final) => {
            const elapsed = performance.now() - started
            if (tty) process.stdout.write(`\r\x1b[2K${progressLine(phases, elapsed)}`)
            else if (final || elapsed - lastPrinted >= 1000) {
              lastPrinted = elapsed
              process.stdout.write(`${progressLine(phases, elapsed)}\n`)
            }
          },
        }).catch((error: unknown) => {
          if (error instanceof DemoInterrupted) return error
          throw error
        })
        if (tty) process.stdout.write('\n')
        if (records instanceof DemoInterrupted) {
          process.stderr.write(`pgslots: demo ${records.message}; every worker and flow process it started has ended\n`)
          process.exitCode = records.exitCode
          return
        }
        process.stdout.write('\nfrom the history table:\n')
        process.stdout.write(`${renderTimeline(records)}\n\n${summarize(records, gpuSlots, flowsPerWorker).join('\n')}\n`)
        process.stdout.write(
          'downloads hold no GPU slot, so every flow of a worker downloads at once; only the GPU step waits its turn\n',
        )
        // The demo's own schema goes with the demo (an embedded server goes anyway).
        if (configured && !global().schemaGiven && !flags.keep) {
          await ui?.close() // it reads the views of the schema
          await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(slots.db)
          process.stdout.write(`dropped schema ${schema} (--keep keeps it)\n`)
        }
      } finally {
        await ui?.close()
        await slots.close()
        await embedded?.stop()
      }
    })
}

interface DemoDatabase {
  url: string
  /** Stops the server; the same promise however often it is called. */
  stop(): Promise<void>
}

/**
 * An embedded server whose stop begins at the first SIGINT or SIGTERM: the terminal's Ctrl-C
 * reaches the server as well, and embedded-postgres's stop() waits for an exit it must not
 * have missed. Its own handlers (async-exit-hook) are removed: they would exit the process
 * once the server is down, before the demo has seen its worker processes end.
 */
async function startDemoDatabase(): Promise<DemoDatabase> {
  const signals = ['SIGINT', 'SIGTERM'] as const
  const before = new Set(signals.flatMap((signal) => process.listeners(signal)))
  const server = await startEmbeddedPostgres()
  let stopped: Promise<void> | undefined
  const stop = () => (stopped ??= server.stop())
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.has(listener)) process.off(signal, listener)
    process.once(signal, () => void stop().catch(() => {})) // the demo's finally awaits it
  }
  return { url: server.url, stop }
}
