import { callFunction } from './call-function.js'
import type { SqlContext } from './context.js'

/** @internal */
export interface HeartbeatRow extends Record<string, unknown> {
  waiter_id: string
  status: 'granted' | 'waiting' | 'gone'
  next_expiry: Date | null
  db_now: Date
}

/**
 * Keeps all of a process's waiters alive in one call, records the pid it listens on now,
 * and says which were granted. @internal
 */
export function heartbeatWaiters(ctx: SqlContext, waiterIds: string[], listenerPid: number | null): Promise<HeartbeatRow[]> {
  return callFunction<HeartbeatRow>(ctx.pool, ctx.schema, 'heartbeat', [waiterIds, listenerPid])
}
