import { randomUUID } from 'node:crypto'
import { callFunctionRow, interval } from './call-function.js'
import type { Holder } from '../options.js'
import type { SqlContext } from './context.js'
import { inTurn } from './limit-turns.js'

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
  /** A waiting request calls claim() again at this time (see _when_to_look.sql). */
  next_expiry: Date | null
  db_now: Date
  /** Limits this request created from templates, and the template of each (same order). */
  created?: string[] | null
  created_from?: string[] | null
}

/** What acquire answers for a request with no names to guard: acquired, with no lease. @internal */
export function unguardedRow(): AcquireRow {
  const none = { lease_id: null, fencing_token: null, expires_at: null, waiter_id: null, ticket: null, next_expiry: null }
  return { status: 'acquired', ...none, names: [], missing: [], db_now: new Date() }
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
  priority: number
}

/** Waits before each retry of an acquire whose answer was lost. */
const RETRY_DELAYS_MS = [50, 250, 1000]

/**
 * Takes slots now, queues a waiter (`wait`), or reports `busy`: one round trip, unless the
 * answer is lost. The request carries an id of its own (it becomes the lease or waiter
 * id), so a retry after a lost answer gets what the first attempt took instead of taking
 * slots twice. @internal
 */
export async function acquireSlots(ctx: SqlContext, a: AcquireArgs): Promise<AcquireRow> {
  const requestId = randomUUID()
  for (let attempt = 0; ; attempt++) {
    try {
      const call = () =>
        callFunctionRow<AcquireRow>(ctx.pool, ctx.schema, 'acquire', [
          a.names,
          a.occupy,
          interval(a.ttlMs),
          JSON.stringify(a.holder),
          a.wait,
          a.strict,
          interval(a.heartbeatMs),
          a.listenerPid,
          requestId,
          a.priority,
        ])
      return await inTurn(ctx, a.names, call)
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt]
      if (delay === undefined || !answerMayBeLost(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}

/**
 * Errors after which the attempt may have committed, or may still be running: the
 * connection failed (no SQLSTATE, a Node errno, class 08, a server shutting down), or a
 * twin attempt still in flight holds the request id (unique violation).
 */
function answerMayBeLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return error instanceof Error
  // 40P01: two first requests created limits from templates in crossing orders; the
  // database rolled one back whole, so asking again is safe.
  return code.startsWith('E') || code.startsWith('08') || code.startsWith('57P') || code === '23505' || code === '40P01'
}
