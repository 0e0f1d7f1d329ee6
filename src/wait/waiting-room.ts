import type pg from 'pg'
import type { AcquireRow } from '../sql/acquire.js'
import type { GrantInbox, SqlContext } from '../sql/context.js'
import type { Listener } from './listener.js'
import { joinListener } from './shared-listener.js'
import { WaitRegistry, type WaitRequest } from './wait-registry.js'

/** @internal */
export interface WaitingRoomOptions {
  ctx: SqlContext
  pollIntervalMs: number
  /** The LISTEN connection's config; none: waiters are found by polling only. */
  listen: pg.ClientConfig | undefined
  onWarning: (message: string) => void
}

/** What a request that may queue records with its waiter row. @internal */
export interface QueueAs {
  /** Backend pid of this process's LISTEN connection (null: none), where grants are sent. */
  listenerPid: number | null
  heartbeatMs: number
}

/**
 * Where this coordinator's queued requests wait: the one owner of its part in the process's
 * LISTEN connection (shared-listener.ts), its pid (which waiter rows record and heartbeats
 * refresh) and the heartbeat rule.
 * @internal
 */
export class WaitingRoom implements GrantInbox {
  readonly #registry: WaitRegistry
  readonly #listener: Listener | undefined
  readonly #leave: () => Promise<void> = async () => {}

  constructor(o: WaitingRoomOptions) {
    this.#registry = new WaitRegistry(o.ctx, o.pollIntervalMs, () => this.#listener?.pid ?? null)
    if (!o.listen) {
      this.#registry.pollWithoutNotifications()
      return
    }
    const joined = joinListener(o.listen, o.ctx.schema, {
      onNotify: (payload, remember) => this.#registry.notified(payload, remember),
      onListening: () => this.#registry.wakeAll(),
      onUnreliable: () => {
        this.#registry.pollWithoutNotifications()
        o.onWarning(
          'LISTEN/NOTIFY does not reach this connection (a transaction-mode pooler?): polling instead; set listenConnectionString to a direct URL for instant handoff',
        )
      },
      sendProbe: async (channel, payload) => void (await o.ctx.pool.query('SELECT pg_notify($1, $2)', [channel, payload])),
    })
    this.#listener = joined.listener
    this.#leave = joined.leave
  }

  /**
   * Before a request that may queue: waits (at most a second) until LISTEN is in effect, so
   * the waiter row names this process's channel and its grant arrives in a NOTIFY rather
   * than with the next poll. Never rejects.
   */
  async ready(): Promise<void> {
    await this.#listener?.started(1000)
  }

  /** What a request sent now records with its waiter, if it queues. */
  queueAs(): QueueAs {
    return { listenerPid: this.listenerPid(), heartbeatMs: this.#registry.heartbeatMs }
  }

  listenerPid(): number | null {
    return this.#listener?.pid ?? null
  }

  /** Through the process's listener, so that a waiter of another coordinator sharing it gets its grant too. */
  deliver(payload: string): void {
    this.#listener?.deliver(payload)
  }

  /** Waits for the grant of a queued request (see WaitRegistry.waitForGrant). */
  waitForGrant(request: WaitRequest): Promise<{ row: AcquireRow; sentAt: number } | null> {
    return this.#registry.waitForGrant(request)
  }

  async close(): Promise<void> {
    await this.#leave()
    this.#registry.close()
  }
}
