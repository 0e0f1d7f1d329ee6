import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Bouncer, hasPgbouncer, startPgbouncer } from '../helpers/pgbouncer.js'
import { useTestSchema } from '../helpers/test-schema.js'

if (!hasPgbouncer) console.warn('pgbouncer tests skipped: /usr/sbin/pgbouncer is absent (.ci/run installs it)')

describe.skipIf(!hasPgbouncer)('through PgBouncer in transaction pooling mode', () => {
  let bouncer: Bouncer
  // Registered before the schema, so it runs after the schema's cleanup (vitest runs afterAll
  // hooks in reverse): the coordinators closed there connect through the bouncer.
  afterAll(() => bouncer?.stop())
  const t = useTestSchema()
  beforeAll(async () => {
    bouncer = await startPgbouncer(t.url)
  })

  it('detects that LISTEN does not work through the pooler and hands off by polling', async () => {
    const warnings: string[] = []
    const pooled = t.coordinator({ connectionString: bouncer.url, onWarning: (m) => warnings.push(m) })
    await pooled.limits.create('pooled', { slots: 1 })
    const held = await pooled.acquire('pooled')
    const waiters = [1, 2, 3].map(() => pooled.acquire('pooled', { timeoutMs: 20_000 }))
    await new Promise((r) => setTimeout(r, 3500)) // the probe NOTIFY never arrives
    expect(warnings.join()).toMatch(/polling instead/)
    await held.release()
    // Each is granted by polling in turn; which was first in line is not the point here
    // (a request the pooler made send again queues later than its twins).
    await Promise.all(
      waiters.map(async (waiting) => {
        const lease = await waiting
        expect(lease.names).toEqual(['pooled'])
        await lease.release()
      }),
    )
    expect((await pooled.limits.get('pooled')).activeSlots).toBe(0)
  })

  it('acquires through the pooler and LISTENs on listenConnectionString', async () => {
    const warnings: string[] = []
    const split = t.coordinator({
      connectionString: bouncer.url,
      listenConnectionString: t.url,
      onWarning: (m) => warnings.push(m),
    })
    await split.limits.create('split', { slots: 1 })
    const held = await split.acquire('split')
    const waiting = split.acquire('split', { timeoutMs: 20_000 })
    await new Promise((r) => setTimeout(r, 300))
    await held.release()
    const lease = await waiting
    await lease.release()
    expect(warnings).toEqual([])
  })
})
