import { callFunctionRow } from './call-function.js'
import type { SqlContext } from './context.js'

/**
 * Releases a lease by its secret id and hands the slots on; false when it was already gone.
 * Grants to waiters of this process come back in the answer and are delivered here, at once
 * (release_with_grants.sql). Should the answer be lost, such a waiter finds its lease at its
 * next poll. @internal
 */
export async function releaseLease(ctx: SqlContext, leaseId: string): Promise<boolean> {
  const inbox = ctx.grantsTo
  const row = await callFunctionRow<{ released: boolean; grants: string[] | null }>(ctx.pool, ctx.schema, 'release_with_grants', [
    leaseId,
    inbox?.listenerPid() ?? null,
  ])
  for (const grant of row.grants ?? []) inbox?.deliver(grant)
  return row.released
}
