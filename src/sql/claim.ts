import { callFunctionRow } from './call-function.js'
import type { AcquireRow } from './acquire.js'
import type { SqlContext } from './context.js'

/** A waiter's poll: claims its granted lease, or heartbeats and reports `waiting`/`gone`. @internal */
export function claimGrant(ctx: SqlContext, waiterId: string): Promise<AcquireRow> {
  return callFunctionRow<AcquireRow>(ctx.pool, ctx.schema, 'claim', [waiterId])
}
