import type pg from 'pg'
import { callFunctionRow } from './call-function.js'
import type { SqlContext } from './context.js'
import { inTurn } from './limit-turns.js'

/**
 * Pools that cannot call release_with_grants: a schema not migrated yet (42883), or a
 * worker role granted before the function existed (42501; `grant` again gives it). They
 * release with plain `release`, whose grants all travel by NOTIFY.
 */
const withoutAnsweredGrants = new WeakSet<pg.Pool>()
const predatesAnsweredGrants = (error: unknown) => ['42883', '42501'].includes(String((error as { code?: unknown }).code))

/**
 * Releases a lease by its secret id and hands the slots on; false when it was already gone.
 * `names`: the lease's limits, for its turn (limit-turns.ts). Grants to waiters of this
 * process come back in the answer and are delivered here, at once (release_with_grants.sql).
 * Should the answer be lost, such a waiter finds its lease at its next poll. @internal
 */
export async function releaseLease(ctx: SqlContext, leaseId: string, names: readonly string[]): Promise<boolean> {
  const inbox = ctx.grantsTo
  const answered = async () => {
    if (!withoutAnsweredGrants.has(ctx.pool)) {
      try {
        return await callFunctionRow<{ released: boolean; grants: string[] | null }>(ctx.pool, ctx.schema, 'release_with_grants', [
          leaseId,
          inbox?.listenerPid() ?? null,
        ])
      } catch (error) {
        // Refused before it ran: nothing was released.
        if (!predatesAnsweredGrants(error)) throw error
        withoutAnsweredGrants.add(ctx.pool)
      }
    }
    const row = await callFunctionRow<{ release: boolean }>(ctx.pool, ctx.schema, 'release', [leaseId])
    return { released: row.release, grants: null }
  }
  const row = await inTurn(ctx, names, answered)
  for (const grant of row.grants ?? []) inbox?.deliver(grant)
  return row.released
}
