import { callFunctionRow, interval } from '../db/call-function.js'
import type { Holder } from '../options.js'
import type { SqlContext } from './context.js'

/** The `acquire_result` composite returned by acquire, claim and renew. @internal */
export interface AcquireRow extends Record<string, unknown> {
  status: 'acquired' | 'waiting' | 'busy' | 'gone'
  lease_id: string | null
  fencing_token: string | null
  expires_at: Date | null
  waiter_id: string | null
  ticket: string | null
  names: string[] | null
  missing: string[] | null
  /** Set only for the first waiter in line: when the earliest blocking lease expires. */
  next_expiry: Date | null
  db_now: Date
}

/** @internal */
export interface AcquireArgs {
  names: string[]
  occupy: number
  ttlMs: number
  holder: Holder
  wait: boolean
  strict: boolean
  heartbeatMs: number
  /** Backend pid of this process's LISTEN connection: the database cancels the waiter when it exits. */
  listenerPid: number | null
}

/** Takes slots now, queues a waiter (`wait`), or reports `busy`. One round trip. @internal */
export function acquireSlots(ctx: SqlContext, a: AcquireArgs): Promise<AcquireRow> {
  return callFunctionRow<AcquireRow>(ctx.pool, ctx.schema, 'acquire', [
    a.names,
    a.occupy,
    interval(a.ttlMs),
    JSON.stringify(a.holder),
    a.wait,
    a.strict,
    interval(a.heartbeatMs),
    a.listenerPid,
  ])
}
