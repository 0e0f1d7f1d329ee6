// One flow run of the image pipeline, in a process of its own (as an orchestrator starts
// it): download, then ML on the worker's GPU, then save. The GPU step is what is limited:
// at most `gpu:<WORKER_ID>` slots at once across every process of that worker. Downloads and
// saves take a slot of roomy limits (net, disk), so the database records every step.
import { Coordinator } from 'pgslots'

const worker = process.env.WORKER_ID ?? 'gpu-1'
const flow = Number(process.env.FLOW ?? 0)
const speed = Number(process.env.SPEED ?? 1)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms / speed))

const slots = new Coordinator({
  connectionString: process.env.DATABASE_URL,
  schema: process.env.PGSLOTS_SCHEMA ?? 'pgslots',
  reaper: false,
  holder: { worker, flow, pid: process.pid, run: process.env.RUN_ID ?? '' },
  // The worker's limits are meant to come from the templates: that they did is no news.
  onWarning: (message) => {
    if (!message.startsWith('created ')) console.warn(`pgslots: ${message}`)
  },
})
try {
  // Started by worker.ts: say when connected, and begin when every flow of the worker is.
  if (process.send) {
    await slots.limits.get('gpu:*') // connects, and fails early without the template
    const go = new Promise((resolve) => process.once('message', resolve))
    process.send('ready')
    await go
    process.disconnect()
  }
  // strict: a limit that does not exist is an error, never an unguarded GPU.
  await slots.concurrency(`net:${worker}`, () => sleep(1000), { strict: true }) // download
  await slots.concurrency(`gpu:${worker}`, () => sleep(3000), { strict: true }) // ML on the GPU
  await slots.concurrency(`disk:${worker}`, () => sleep(500), { strict: true }) // save
} catch (error) {
  // One line, not a stack trace: the worker says which flow, and ten alike read as one cause.
  process.stderr.write(`${worker} flow ${flow}: ${(error as Error).message}\n`)
  process.exitCode = 1
} finally {
  await slots.close()
}
