import { setTimeout as sleep } from 'node:timers/promises'
import { AcquireTimeoutError, PgSlotsError } from '../errors.js'
import type { AcquireRow } from '../sql/acquire.js'
import { cancelWait } from '../sql/cancel-wait.js'
import { claimGrant } from '../sql/claim.js'
import type { SqlContext } from '../sql/context.js'
import { heartbeatWaiters } from '../sql/heartbeat.js'
import { AbortWatch } from './abort-watch.js'
import { grantedRow, isGrantFor, type NotifiedGrant, parseNotification } from './wire-protocol.js'

/** One queued request of this process. */
interface PendingWaiter {
  waiterId: string
  ticket: string
  /** Wakes the waiter; with a grant from a NOTIFY, it needs no claim. */
  wake(grant?: NotifiedGrant): void
  /** Wake at this local performance.now() time (earliest blocking lease expiry). */
  wakeAt(localTime: number): void
}

/** @internal */
export interface WaitRequest {
  row: AcquireRow
  /** performance.now() deadline, Infinity for none. */
  deadline: number
  signal: AbortSignal | undefined
  describe: string
  /** performance.now() when the request that queued the waiter was sent. */
  sentAt: number
  /** The listener pid the queuing request recorded (null: none yet). */
  listenerPid: number | null
}

/**
 * The waiters of one coordinator: wakes them on NOTIFY (by public ticket), keeps them
 * alive with one batched heartbeat per poll, and is the safety net that finds grants
 * whose notification was lost. Without LISTEN it polls adaptively: fast right after
 * activity, backing off to `pollIntervalMs` while nothing changes.
 * @internal
 */
export class WaitRegistry {
  readonly #ctx: SqlContext
  readonly #pollIntervalMs: number
  readonly #listenerPid: () => number | null
  readonly #byTicket = new Map<string, PendingWaiter>()
  /** One abort listener per signal for all sleeping waiters (abort-watch.ts). */
  readonly #aborts = new AbortWatch()
  /** Tickets notified before their waiter registered, with any grant (oldest first, bounded). */
  readonly #early = new Map<string, NotifiedGrant | undefined>()
  #pollTimer: NodeJS.Timeout | undefined
  #pollDue = 0
  #fastDelay = 10
  #fastPolling = false
  #closed = false

  /** `listenerPid`: the pid grants are sent to now (null: none), recorded with every heartbeat. */
  constructor(ctx: SqlContext, pollIntervalMs: number, listenerPid: () => number | null) {
    this.#ctx = ctx
    this.#pollIntervalMs = pollIntervalMs
    this.#listenerPid = listenerPid
  }

  /**
   * How long a waiter of this process stays in line without a heartbeat: five missed polls
   * (at least 5 s) mean the process is gone. Its waiters then stop blocking the line, and a
   * grant it cannot claim passes on.
   */
  get heartbeatMs(): number {
    return Math.max(5_000, this.#pollIntervalMs * 5)
  }

  /** From now on no NOTIFY is expected (no LISTEN, or a pooler that drops them): poll adaptively. */
  pollWithoutNotifications(): void {
    this.#fastPolling = true
    this.#fastDelay = 10
    this.#schedulePoll(10)
  }

  /**
   * A NOTIFY arrived: a waiter's ticket, or a grant (see wire-protocol.ts). False when no
   * waiter of this registry has the ticket (a listener shared by several coordinators asks
   * each in turn, then has every one of them remember it).
   */
  notified(payload: string, remember: boolean): boolean {
    const { ticket, grant } = parseNotification(payload)
    const waiter = this.#byTicket.get(ticket)
    if (waiter) {
      waiter.wake(grant)
      return true
    }
    // Not registered yet (its acquire() response is still on the way): remember briefly.
    if (!remember) return false
    this.#early.set(ticket, grant)
    if (this.#early.size > 10_000) this.#early.delete(this.#early.keys().next().value as string)
    return false
  }

  /**
   * After (re)connecting the listener: every pending ticket is re-checked, and a heartbeat
   * tells the database the new listening pid before the waiters could look dead.
   */
  wakeAll(): void {
    for (const waiter of this.#byTicket.values()) waiter.wake()
    this.#schedulePoll(0)
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#pollTimer)
  }

  /**
   * Waits until the queued request of `row` is granted: by a NOTIFY that carries the grant,
   * or by claiming it (polling waiters, missed notifications). Returns the lease row and when
   * the request it is measured from was sent, or null when the waiter was lost (expired
   * while unreachable) and must be queued again. On timeout or abort the waiter is
   * cancelled — a grant that raced it is released — and the error is thrown.
   */
  async waitForGrant(request: WaitRequest): Promise<{ row: AcquireRow; sentAt: number } | null> {
    const { row, deadline, signal } = request
    const waiterId = row.waiter_id as string
    const ticket = row.ticket as string
    let wakeUp: () => void = () => {}
    let woken = false
    let granted: NotifiedGrant | undefined
    let expiryTimer: NodeJS.Timeout | undefined
    const waiter: PendingWaiter = {
      waiterId,
      ticket,
      wake: (grant) => {
        if (grant && isGrantFor(grant, ticket, waiterId)) granted = grant
        woken = true
        wakeUp()
      },
      wakeAt: (localTime) => {
        clearTimeout(expiryTimer)
        expiryTimer = setTimeout(waiter.wake, Math.max(0, localTime - performance.now()) + 2)
        expiryTimer.unref()
      },
    }
    this.#byTicket.set(ticket, waiter)
    // The grant's NOTIFY may have arrived between acquire() and this registration.
    if (this.#early.has(ticket)) waiter.wake(this.#early.get(ticket))
    this.#early.delete(ticket)
    this.#fastDelay = 10
    // Grants NOTIFY the listener the waiter row names. When it names none (or an old
    // connection), the next heartbeat records the current one at once, and reports a
    // grant made before that.
    const stale = this.#listenerPid() !== request.listenerPid
    this.#schedulePoll(stale ? 0 : this.#fastPolling ? 10 : this.#pollIntervalMs)
    if (row.next_expiry) waiter.wakeAt(localTime(row.next_expiry, row.db_now))
    let retryDelay = 50
    try {
      for (;;) {
        // Aborted while the acquire call was on the way: the abort event has fired already.
        if (!woken && !signal?.aborted) await sleepUntilWoken(deadline, signal, this.#aborts, (resolve) => (wakeUp = resolve))
        woken = false
        if (granted) return { row: grantedRow(row, granted), sentAt: request.sentAt }
        if (signal?.aborted || performance.now() >= deadline) {
          await cancelWait(this.#ctx, waiterId).catch(() => {}) // else it expires with its heartbeat
          throw signal?.aborted ? signal.reason : new AcquireTimeoutError(`timed out waiting for ${request.describe}`)
        }
        let claimed: AcquireRow
        const sentAt = performance.now()
        try {
          // A grant whose NOTIFY this process missed, or that a claim whose answer was lost
          // took, is found by claim too: the lease has the waiter's id. 'gone': neither exists.
          claimed = await claimGrant(this.#ctx, waiterId)
        } catch (error) {
          if (error instanceof PgSlotsError) throw error
          // Database unreachable: retry with backoff until the deadline.
          await pause(Math.min(deadline, performance.now() + retryDelay) - performance.now(), signal)
          retryDelay = Math.min(retryDelay * 2, 2000)
          woken = true
          continue
        }
        retryDelay = 50
        if (claimed.status === 'gone') return null
        if (claimed.status === 'acquired') return { row: claimed, sentAt }
        if (claimed.next_expiry) waiter.wakeAt(localTime(claimed.next_expiry, claimed.db_now))
      }
    } finally {
      clearTimeout(expiryTimer)
      this.#byTicket.delete(ticket)
    }
  }

  /** Polls after `delay` ms unless a poll is already due sooner. The timer keeps the process alive while requests wait. */
  #schedulePoll(delay: number): void {
    if (this.#closed || this.#byTicket.size === 0) return
    const due = performance.now() + delay
    if (this.#pollTimer && this.#pollDue <= due) return
    clearTimeout(this.#pollTimer)
    this.#pollDue = due
    this.#pollTimer = setTimeout(() => void this.#poll(), delay * (0.75 + Math.random() * 0.5))
  }

  async #poll(): Promise<void> {
    this.#pollTimer = undefined
    const waiters = [...this.#byTicket.values()]
    if (waiters.length === 0 || this.#closed) return
    let changed = false
    try {
      const rows = await heartbeatWaiters(
        this.#ctx,
        waiters.map((w) => w.waiterId),
        this.#listenerPid(),
      )
      const byId = new Map(waiters.map((w) => [w.waiterId, w]))
      for (const row of rows) {
        const waiter = byId.get(row.waiter_id)
        if (!waiter) continue
        if (row.status !== 'waiting') {
          changed = true
          waiter.wake()
        } else if (row.next_expiry) {
          waiter.wakeAt(localTime(row.next_expiry, row.db_now))
        }
      }
    } catch {
      // Unreachable database: the waiters' own claims retry; keep heartbeating.
    }
    // Adaptive polling: fast right after a grant, backing off while nothing changes.
    this.#fastDelay = changed ? 10 : Math.min(this.#fastDelay * 1.5, this.#pollIntervalMs)
    this.#schedulePoll(this.#fastPolling ? this.#fastDelay : this.#pollIntervalMs)
  }
}

/** Converts a database timestamp to local performance.now() time via a database `now()`. */
function localTime(at: Date, dbNow: Date): number {
  return performance.now() + (at.getTime() - dbNow.getTime())
}

function sleepUntilWoken(
  deadline: number,
  signal: AbortSignal | undefined,
  aborts: AbortWatch,
  register: (resolve: () => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined
    let unwatch = () => {}
    const done = () => {
      clearTimeout(timer)
      unwatch()
      resolve()
    }
    if (Number.isFinite(deadline)) timer = setTimeout(done, Math.max(0, deadline - performance.now()))
    if (signal) unwatch = aborts.watch(signal, done)
    register(done)
  })
}

/** Sleeps `ms`, or less when `signal` aborts first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return sleep(Math.max(0, ms), undefined, { signal }).catch(() => {})
}
