import type pg from 'pg'
import { fromDatabaseError } from '../errors.js'
import type { SqlContext } from './context.js'

/** What one reap pass removed. */
export interface ReapResult {
  expiredLeases: number
  expiredWaiters: number
  prunedHistory: number
}

/**
 * Runs `reap()` unless another process is reaping this schema right now (then returns null).
 * The transaction-scoped advisory lock elects a leader per pass and works through poolers.
 * @internal
 */
export async function reapIfLeader(ctx: SqlContext): Promise<ReapResult | null> {
  let client: pg.PoolClient | undefined
  try {
    client = await ctx.pool.connect()
    await client.query('BEGIN')
    const lock = await client.query<{ leader: boolean }>(
      'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS leader',
      [`pgslots:reap:${ctx.schema}`],
    )
    let result: ReapResult | null = null
    if (lock.rows[0]?.leader) {
      const row = (
        await client.query<{ expired_leases: number; expired_waiters: number; pruned_history: number }>(
          `SELECT * FROM "${ctx.schema}".reap()`,
        )
      ).rows[0]
      result = {
        expiredLeases: row?.expired_leases ?? 0,
        expiredWaiters: row?.expired_waiters ?? 0,
        prunedHistory: row?.pruned_history ?? 0,
      }
    }
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => {})
    throw fromDatabaseError(error)
  } finally {
    client?.release()
  }
}
