// A separate OS process that holds a slot, then checks `lease.lost` in a busy loop: its event
// loop never turns, so no timer and no message from the renewer thread can update the lease
// meanwhile. When the clock jumps by more than a ttl within one turn of the loop, the process
// was paused (SIGSTOP) then; the check of the next turn starts after the resume, with nothing
// but this loop run since, and the process reports what it said.
import { Coordinator, LeaseLostError } from '../../src/index.js'

interface Job {
  url: string
  schema: string
  name: string
  ttlMs: number
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`)

const slots = new Coordinator({ connectionString: job.url, schema: job.schema, reaper: false, listen: false, onWarning: () => {} })
const lease = await slots.acquire(job.name, { ttlMs: job.ttlMs })
emit({ pid: process.pid, token: lease.fencingToken.toString() })

const giveUpAt = performance.now() + 60_000
let previous = performance.now()
let pausedMs: number | undefined
for (;;) {
  const lost = lease.lost
  const now = performance.now()
  if (pausedMs !== undefined) {
    const aborted = lease.signal.aborted
    let threw: string | null = null
    try {
      lease.throwIfLost()
    } catch (error) {
      threw = error instanceof LeaseLostError ? 'LeaseLostError' : String(error)
    }
    emit({ pausedMs, lost, aborted, threw })
    break
  }
  if (now - previous > job.ttlMs) {
    // Paused since the last turn, perhaps in the middle of this check: the next one is wholly after.
    pausedMs = Math.round(now - previous)
  } else if (lost) {
    emit({ lostBeforePause: String((lease.signal.reason as Error).message) })
    break
  } else if (now > giveUpAt) {
    emit({ neverPaused: true })
    break
  }
  previous = now
}
emit({ released: await lease.release() })
await slots.close()
process.exit(0)
