import { setMaxListeners } from 'node:events'
import type { Holder } from '../options.js'
import { type AcquireArgs, type AcquireRow, unguardedRow } from '../sql/acquire.js'
import { checkLimitNames } from '../validate.js'
import type { WaitingRoom } from '../wait/waiting-room.js'
import type { CheckedAcquireOptions } from './acquire-options.js'
import type { RequestWarnings } from './request-warnings.js'

/** @internal */
export interface RequestContext {
  room: WaitingRoom
  /** Aborted when the coordinator closes: every pending request ends with it. */
  closing: AbortSignal
  holder: Holder
  warnings: RequestWarnings
}

/** A granted request: the row, when the request it is measured from was sent, and the signal that ends it. @internal */
export interface Granted {
  row: AcquireRow
  sentAt: number
  signal: AbortSignal
}

/** How one request asks the database (acquire, or take budget), given all but its ttl. @internal */
export type Ask = (args: Omit<AcquireArgs, 'ttlMs'>) => Promise<AcquireRow>

/**
 * One request's life: ask once, and when it is queued wait for the grant (queueing
 * again if the waiter was lost while the database was unreachable). Null when busy.
 * @internal
 */
export async function obtain(
  c: RequestContext,
  names: string | string[],
  o: CheckedAcquireOptions,
  wait: boolean,
  ask: Ask,
): Promise<Granted | null> {
  const list = checkLimitNames(names)
  if (c.closing.aborted) throw c.closing.reason
  o.signal?.throwIfAborted()
  if (list.length === 0) return { row: unguardedRow(), sentAt: performance.now(), signal: c.closing }
  const signal = o.signal ? AbortSignal.any([o.signal, c.closing]) : c.closing
  setMaxListeners(0, signal)
  const deadline = o.timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + o.timeoutMs
  const holder = o.holder ?? c.holder
  if (wait) await c.room.ready()
  signal.throwIfAborted()
  for (;;) {
    const sentAt = performance.now()
    const { listenerPid, heartbeatMs } = c.room.queueAs()
    const row = await ask({ names: list, occupy: o.occupy, strict: o.strict, holder, wait, heartbeatMs, listenerPid, priority: o.priority })
    c.warnings.report(row)
    if (row.status === 'busy') return null
    if (row.status === 'acquired') return { row, sentAt, signal }
    const grant = await c.room.waitForGrant({ row, deadline, signal, describe: list.join(', '), sentAt, listenerPid })
    if (grant) return { ...grant, signal }
  }
}
