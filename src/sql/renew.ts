import { callFunctionRow, interval } from './call-function.js'
import type { AcquireRow } from './acquire.js'
import type { SqlContext } from './context.js'

/** Extends a live lease by `ttlMs` from database now; throws LeaseLostError when it is gone. @internal */
export function renewLease(ctx: SqlContext, leaseId: string, ttlMs: number): Promise<AcquireRow> {
  return callFunctionRow<AcquireRow>(ctx.pool, ctx.schema, 'renew', [leaseId, interval(ttlMs)])
}
