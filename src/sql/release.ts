import { callFunctionRow } from './call-function.js'
import type { SqlContext } from './context.js'

/** Releases a lease by its secret id and hands the slots on; false when it was already gone. @internal */
export async function releaseLease(ctx: SqlContext, leaseId: string): Promise<boolean> {
  const row = await callFunctionRow<{ release: boolean }>(ctx.pool, ctx.schema, 'release', [leaseId])
  return row.release
}
