import { callFunctionRow } from './call-function.js'
import type { SqlContext } from './context.js'
import { inTurn } from './limit-turns.js'

/**
 * Releases a lease by its secret id and hands the slots on; false when it was already gone.
 * `names`: the lease's limits, for its turn (limit-turns.ts).
 * Grants to waiters of this process come back in the answer and are delivered here, at once
 * (release_with_grants.sql). Should the answer be lost, such a waiter finds its lease at its
 * next poll. @internal
 */
export async function releaseLease(ctx: SqlContext, leaseId: string, names: readonly string[]): Promise<boolean> {
  const inbox = ctx.grantsTo
  const call = () =>
    callFunctionRow<{ released: boolean; grants: string[] | null }>(ctx.pool, ctx.schema, 'release_with_grants', [
      leaseId,
      inbox?.listenerPid() ?? null,
    ])
  const row = await inTurn(ctx, names, call)
  for (const grant of row.grants ?? []) inbox?.deliver(grant)
  return row.released
}
