import type pg from 'pg'
import { callFunctionRow } from './call-function.js'
import type { SqlContext } from './context.js'
import { inTurn } from './limit-turns.js'

/**
 * Per pool and schema where release_with_grants was refused, until when to use plain
 * `release` (whose grants all travel by NOTIFY): a schema not migrated yet (42883), or a
 * worker role granted before the function existed (42501; `grant` again gives it). Asked
 * again after a minute, so a migration or a grant takes effect without a restart.
 */
const refusedUntil = new WeakMap<pg.Pool, Map<string, number>>()
const retryAfterMs = 60_000

function refusesAnsweredGrants(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return (code === '42883' || code === '42501') && String(message).includes('release_with_grants')
}

/**
 * Releases a lease by its secret id and hands the slots on; false when it was already gone.
 * `names`: the lease's limits, for its turn (limit-turns.ts). Grants to waiters of this
 * process come back in the answer and are delivered here, at once (release_with_grants.sql).
 * Should the answer be lost, such a waiter finds its lease at its next poll. @internal
 */
export async function releaseLease(ctx: SqlContext, leaseId: string, names: readonly string[]): Promise<boolean> {
  const inbox = ctx.grantsTo
  const answered = async () => {
    const refused = refusedUntil.get(ctx.pool)
    if ((refused?.get(ctx.schema) ?? 0) <= performance.now()) {
      try {
        return await callFunctionRow<{ released: boolean; grants: string[] | null }>(ctx.pool, ctx.schema, 'release_with_grants', [
          leaseId,
          inbox?.listenerPid() ?? null,
        ])
      } catch (error) {
        // Refused before it ran: nothing was released.
        if (!refusesAnsweredGrants(error)) throw error
        const byPool = refused ?? new Map<string, number>()
        refusedUntil.set(ctx.pool, byPool.set(ctx.schema, performance.now() + retryAfterMs))
      }
    }
    const row = await callFunctionRow<{ release: boolean }>(ctx.pool, ctx.schema, 'release', [leaseId])
    return { released: row.release, grants: null }
  }
  const row = await inTurn(ctx, names, answered, false)
  for (const grant of row.grants ?? []) inbox?.deliver(grant)
  return row.released
}
