import { describe, expect, it } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'

// Which calls commit without waiting for their WAL flush (docs/concepts.md, "Inside the
// database"): only those that hand nothing out, so that a crash before the flush can only
// forget a place in line or a release (a lease back until its ttl), never a grant. Each call
// runs in autocommit as the SQL API asks; the statement reads synchronous_commit after the
// call, in the call's own transaction, which is what its commit will obey.
describe('commit durability of each call', () => {
  const t = useTestSchema({ perTest: true })

  /** Runs `call` (an SQL expression) and reads synchronous_commit in its transaction. */
  async function commitOf(call: string, values: unknown[] = []): Promise<string> {
    const [row] = await t.query<{ sync: string }>(
      `WITH c AS MATERIALIZED (SELECT ${call} AS result) SELECT current_setting('synchronous_commit') AS sync FROM c`,
      values,
    )
    return row!.sync
  }

  async function limit(name: string, slots: number, decay = 0): Promise<void> {
    await t.query("SELECT put_limit($1, $2, true, $3, 'create')", [name, slots, decay])
  }

  async function hold(name: string): Promise<{ id: string; token: string }> {
    const [row] = await t.query<{ lease_id: string; fencing_token: string }>(
      "SELECT lease_id, fencing_token FROM acquire(ARRAY[$1], 1, '1 minute')",
      [name],
    )
    return { id: row!.lease_id, token: row!.fencing_token }
  }

  it('a grant into room waits for the flush; a request that queues does not', async () => {
    await limit('x', 1)
    expect(await commitOf("(acquire(ARRAY['x'], 1, '1 minute')).status")).toBe('on')
    expect(await commitOf("(acquire(ARRAY['x'], 1, '1 minute', p_wait => true)).status")).toBe('off')
  })

  it('a release that hands nothing out does not wait for the flush, by either release call', async () => {
    await limit('x', 2)
    const first = await hold('x')
    const second = await hold('x')
    expect(await commitOf('release($1)', [first.id])).toBe('off')
    expect(await commitOf('(release_with_grants($1, NULL)).released', [second.id])).toBe('off')
    expect(await t.count('leases')).toBe(0)
  })

  it('a release that hands its slots to a waiter waits for the flush', async () => {
    await limit('x', 1)
    const holder = await hold('x')
    await t.query("SELECT acquire(ARRAY['x'], 1, '1 minute', p_wait => true)")
    expect(await commitOf('release($1)', [holder.id])).toBe('on')
    expect(await t.count('leases')).toBe(1)
  })

  it('a revoke and a rate limit’s take of budget wait for the flush, with nobody waiting', async () => {
    await limit('x', 1)
    await limit('api', 10, 1)
    const holder = await hold('x')
    expect(await commitOf('revoke($1)', [holder.token])).toBe('on')
    expect(await commitOf("(rate_limit(ARRAY['api'], 1)).status")).toBe('on')
  })
})
