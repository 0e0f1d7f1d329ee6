import { callFunctionRow } from './call-function.js'
import type { SqlContext } from './context.js'

/** Ends someone's lease by its public fencing token; false when no such live lease. @internal */
export async function revokeLease(ctx: SqlContext, fencingToken: bigint): Promise<boolean> {
  const row = await callFunctionRow<{ revoke: boolean }>(ctx.pool, ctx.schema, 'revoke', [fencingToken.toString()])
  return row.revoke
}
