import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { Lease } from '../../src/index.js'
import { startWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'

interface Event {
  pid?: number
  token?: string
  pausedMs?: number
  lost?: boolean
  aborted?: boolean
  threw?: string | null
  lostBeforePause?: string
  released?: boolean
}

const t = useTestSchema()

describe('a holder paused for longer than its ttl (SIGSTOP: a VM freeze, a long GC pause)', () => {
  it('finds the lease lost at its first check after the resume, while another process holds the slot', async () => {
    const ttlMs = 2000
    const admin = t.coordinator()
    await admin.limits.create('paused', { slots: 1 })
    const holder = await startWorker<Event>('paused-holder', { url: t.url, schema: t.schema, name: 'paused', ttlMs })
    const pid = holder.first.pid!
    // A few renewals from the thread while the holder's loop is busy: the lease is fine until the pause.
    await sleep(ttlMs)
    process.kill(pid, 'SIGSTOP')
    let next: Lease
    try {
      await sleep(3 * ttlMs)
      next = await admin.acquire('paused', { timeoutMs: 5000 })
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    expect(next.fencingToken).toBeGreaterThan(BigInt(holder.first.token!))

    const events = await holder.exited
    const resumed = events.find((e) => e.pausedMs !== undefined)
    expect(events.find((e) => e.lostBeforePause !== undefined)).toBeUndefined()
    // The first synchronous check after the resume, before any timer or message could run.
    expect(resumed).toMatchObject({ lost: true, aborted: true, threw: 'LeaseLostError' })
    expect(resumed!.pausedMs).toBeGreaterThanOrEqual(3 * ttlMs)
    expect(events.at(-1)).toEqual({ released: false })
    await next.release()
  })
})
