import { callFunctionRow } from './call-function.js'
import type { SqlContext } from './context.js'

/** Removes a waiter; a grant it had not claimed is released, so nothing is left behind. @internal */
export async function cancelWait(ctx: SqlContext, waiterId: string): Promise<boolean> {
  const row = await callFunctionRow<{ cancel_wait: boolean }>(ctx.pool, ctx.schema, 'cancel_wait', [waiterId])
  return row.cancel_wait
}
