import { callFunctionRow, interval } from './call-function.js'
import type { AcquireArgs, AcquireRow } from './acquire.js'
import type { SqlContext } from './context.js'

/** Takes rate-limit budget now, or queues a waiter. One round trip. @internal */
export function takeBudget(ctx: SqlContext, a: Omit<AcquireArgs, 'ttlMs'>): Promise<AcquireRow> {
  return callFunctionRow<AcquireRow>(ctx.pool, ctx.schema, 'rate_limit', [
    a.names,
    a.occupy,
    JSON.stringify(a.holder),
    a.wait,
    a.strict,
    interval(a.heartbeatMs),
    a.listenerPid,
    a.priority,
  ])
}
