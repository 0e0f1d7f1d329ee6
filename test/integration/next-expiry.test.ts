import { describe, expect, it } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'

// A waiting request's next_expiry (docs/sql-api.md): the first in line looks again when the
// lease blocking it expires, every other waiter at the next lease expiry on its limits. On
// one concurrency limit acquire takes it from the soonest lease of all when that one counts
// on the limit, and reads the limit's own leases otherwise: both must give the same answer.
describe('next_expiry of a waiting request on one limit', () => {
  const t = useTestSchema({ perTest: true })

  /** Takes slots of `names` for `ttl`; the lease's id and expires_at (as text: microseconds). */
  async function hold(names: string[], ttl: string): Promise<{ id: string; expiresAt: string }> {
    const [row] = await t.query<{ status: string; lease_id: string; expires_at: string }>(
      'SELECT status, lease_id, expires_at::text FROM acquire($1, 1, $2::interval)',
      [names, ttl],
    )
    expect(row!.status).toBe('acquired')
    return { id: row!.lease_id, expiresAt: row!.expires_at }
  }

  /** Queues a polling request on `name`; its next_expiry as text. */
  async function queue(name: string): Promise<string | null> {
    const [row] = await t.query<{ status: string; next_expiry: string | null }>(
      `SELECT status, next_expiry::text FROM acquire(ARRAY[$1], 1, '1 minute', p_wait => true)`,
      [name],
    )
    expect(row!.status).toBe('waiting')
    return row!.next_expiry
  }

  async function limits(slots: Record<string, number>): Promise<void> {
    for (const [name, n] of Object.entries(slots)) await t.query("SELECT put_limit($1, $2, true, 0, 'create')", [name, n])
  }

  it('is the holder’s expiry, for the first in line and for the one behind it', async () => {
    await limits({ x: 1 })
    const holder = await hold(['x'], '30 seconds')
    expect(await queue('x')).toBe(holder.expiresAt)
    expect(await queue('x')).toBe(holder.expiresAt)
  })

  it('is the expiry of the limit’s own lease when a sooner lease counts on another limit', async () => {
    await limits({ x: 1, other: 1 })
    const sooner = await hold(['other'], '10 seconds')
    const holder = await hold(['x'], '30 seconds')
    expect(sooner.expiresAt < holder.expiresAt).toBe(true)
    expect(await queue('x')).toBe(holder.expiresAt)
  })

  it('counts a lease that holds the limit second among several', async () => {
    await limits({ x: 2, 'a-first': 1, other: 1 })
    const sooner = await hold(['other'], '2 seconds')
    const several = await hold(['a-first', 'x'], '5 seconds')
    await hold(['x'], '30 seconds')
    // The soonest lease counts elsewhere: the limit's leases are read, the one on several limits among them.
    expect(sooner.expiresAt < several.expiresAt).toBe(true)
    expect(await queue('x')).toBe(several.expiresAt)
    // With that one gone the soonest lease is the one on several limits itself.
    await t.query('SELECT release($1)', [sooner.id])
    expect(await queue('x')).toBe(several.expiresAt)
  })
})
