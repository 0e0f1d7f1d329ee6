import type pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// A waiter that is not first in line polls with claim() while another transaction grants
// it. The grant must reach the waiter: a claim that reported 'gone' here made the client
// queue again and take a second grant (a rate limit's budget spent twice).
describe('a grant that lands while its waiter polls', () => {
  const t = useTestSchema()
  const clients: pg.PoolClient[] = []
  afterAll(() => {
    for (const c of clients) c.release()
  })

  async function session(): Promise<pg.PoolClient> {
    const client = await t.sql.connect()
    clients.push(client)
    await client.query(`SET search_path = "${t.schema}"`)
    return client
  }

  it('is claimed by that poll, not lost and queued again', async () => {
    const granter = await session()
    const poller = await session()
    await t.coordinator().limits.create('pair', { slots: 2 })
    const take = async (wait: boolean) =>
      (await t.query<{ lease_id: string; waiter_id: string }>(
        `SELECT lease_id, waiter_id FROM acquire('{pair}', 1, '1 minute', '{}', $1)`, [wait],
      ))[0]!
    const held = [await take(false), await take(false)]
    const first = await take(true)
    const second = await take(true)

    // Both releases in one transaction grant the first waiter, then the second.
    await granter.query('BEGIN')
    for (const lease of held) await granter.query('SELECT release($1)', [lease.lease_id])
    // The second waiter's poll still sees the first one ahead of it, and then meets the
    // uncommitted grant on its own row.
    const poll = poller.query<{ status: string; lease_id: string | null }>(
      'SELECT status, lease_id FROM claim($1)', [second.waiter_id],
    )
    await until(
      async () => (await t.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%claim(%'`)).length === 1,
      'the poll to wait for the granting transaction',
    )
    await granter.query('COMMIT')

    const [claimed] = (await poll).rows
    expect(claimed).toMatchObject({ status: 'acquired' })
    const leases = await t.query<{ id: string }>('SELECT id FROM leases')
    expect(leases.map((l) => l.id).sort()).toEqual([first.waiter_id, claimed!.lease_id].sort())
    // Both granted: the first one's lease (its waiter id) waits for its claim, no waiter row is left.
    expect(await t.query('SELECT id FROM waiters')).toEqual([])
  })
})
