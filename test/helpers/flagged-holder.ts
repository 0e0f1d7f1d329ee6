// A separate OS process, started with whatever node flags a test chooses (-e, --test,
// --watch...), that holds a slot for several ttls with a free event loop and reports
// whether it kept it. The job comes in PGSLOTS_TEST_JOB: under -e or --test, argv differs.
// Its report is one line, `pgslots-result <json>`, findable in TAP or watch-mode output.
import { Coordinator } from '../../src/index.js'

interface Job {
  url: string
  schema: string
  name: string
  ttlMs: number
  holdMs: number
}

const job = JSON.parse(process.env.PGSLOTS_TEST_JOB ?? '{}') as Job
const warnings: string[] = []
const slots = new Coordinator({
  connectionString: job.url,
  schema: job.schema,
  reaper: false,
  listen: false,
  onWarning: (message) => warnings.push(message),
})
const lease = await slots.acquire(job.name, { ttlMs: job.ttlMs })
await new Promise((resolve) => setTimeout(resolve, job.holdMs))
const lost = lease.lost
const released = await lease.release()
await slots.close()
process.stdout.write(`pgslots-result ${JSON.stringify({ lost, released, warnings })}\n`)
