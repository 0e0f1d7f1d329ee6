import pg from 'pg'
import { listenerChannel, listenerLockKey, takeListenerLock } from './wire-protocol.js'

/** @internal */
export interface ListenerEvents {
  /** A NOTIFY payload arrived (a granted waiter's ticket). */
  onNotify(payload: string): void
  /** LISTEN is (again) in effect: notifications sent while it was not may have been missed. */
  onListening(): void
  /** A NOTIFY sent through the pool never arrived (e.g. LISTEN through a transaction pooler). */
  onUnreliable(): void
  /** Sends a NOTIFY on this channel with this payload through the pool the coordinator acquires through. */
  sendProbe(channel: string, payload: string): Promise<void>
}

const maxBackoffMs = 5000
const healthCheckMs = 15_000
const probeTimeoutMs = 3000

/**
 * The LISTEN connection of a process's coordinators (shared-listener.ts), outside the pool, on a channel of its own
 * (named by its backend pid, which waiters record): a NOTIFY reaches only this process.
 * Reconnects with capped, jittered backoff, checks itself with `pg_listening_channels()`,
 * and reports every (re)start of listening so pending waiters are re-checked. NOTIFY is only a latency hint.
 * On connect it proves the path end to end: a NOTIFY sent through the pool must arrive.
 * Through a transaction-mode pooler it does not, and the coordinator falls back to polling.
 * @internal
 */
export class Listener {
  readonly #config: pg.ClientConfig
  /** Advisory-lock key the connection holds while it lives (see `_listener_gone`). */
  readonly #lockKey: string
  #pid: number | undefined
  readonly #events: ListenerEvents
  #client: pg.Client | undefined
  #attempt = 0
  #retryTimer: NodeJS.Timeout | undefined
  #healthTimer: NodeJS.Timeout | undefined
  #stopped = false
  #listening = false
  /** Resolved when LISTEN is next in effect, or the listener gives up (stop, an unreliable path). */
  #ready: { promise: Promise<void>; resolve: () => void } = deferred()
  #probes = new Map<string, () => void>()

  constructor(config: pg.ClientConfig, schema: string, events: ListenerEvents) {
    this.#config = config
    this.#lockKey = listenerLockKey(schema)
    this.#events = events
  }

  /** The channel of the current connection (empty before its pid is known). */
  get #channel(): string {
    return this.#pid === undefined ? '' : listenerChannel(this.#pid)
  }

  /** A grant that reached this process in a release's answer instead: taken as one notified on the channel. */
  deliver(payload: string): void {
    this.#events.onNotify(payload)
  }

  /** The backend pid of the listening connection while LISTEN is in effect: it lives as long as this process. */
  get pid(): number | undefined {
    return this.#listening ? this.#pid : undefined
  }

  start(): void {
    if (this.#client || this.#retryTimer || this.#stopped) return
    this.#ready = deferred(false)
    void this.#connect()
  }

  /**
   * Starts listening if needed and waits (at most `timeoutMs`) until LISTEN is in effect,
   * so a waiter queued next records this process's channel and its grant arrives in a
   * NOTIFY. Never rejects: without a listener, waiters are found by polling.
   */
  async started(timeoutMs: number): Promise<void> {
    this.start()
    if (this.#listening || this.#stopped) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#ready.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#ready.resolve()
    clearTimeout(this.#retryTimer)
    clearInterval(this.#healthTimer)
    const client = this.#client
    this.#client = undefined
    this.#listening = false
    await client?.end().catch(() => {})
  }

  async #connect(): Promise<void> {
    this.#retryTimer = undefined
    const client = new pg.Client({ ...this.#config, application_name: 'pgslots-listener', keepAlive: true })
    this.#client = client
    client.on('notification', (message) => {
      if (message.channel !== this.#channel || !message.payload) return
      const probe = this.#probes.get(message.payload)
      if (probe) probe()
      else this.#events.onNotify(message.payload)
    })
    client.on('error', () => this.#lost(client))
    client.on('end', () => this.#lost(client))
    try {
      await client.connect()
      // The server's own pid (a pooler in between would report another): waiters record it.
      const pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)
      this.#pid = pid
      await client.query(`LISTEN "${this.#channel}"`)
    } catch {
      this.#lost(client)
      return
    }
    if (this.#client !== client) return
    const probe = await this.#probe()
    if (probe === 'unknown') {
      // The pool could not send it: neither trusted nor given up; try again later.
      this.#lost(client)
      return
    }
    if (probe === 'missing') {
      if (this.#client === client) this.#events.onUnreliable()
      await this.stop()
      return
    }
    if (this.#client !== client) return
    try {
      // Held while this connection lives (taken only now that it is known not to be pooled):
      // the database tells a dead process's waiters by it.
      await client.query(takeListenerLock, [this.#lockKey, this.#pid])
    } catch {
      this.#lost(client)
      return
    }
    if (this.#client !== client) return
    this.#attempt = 0
    this.#listening = true
    this.#ready.resolve()
    clearInterval(this.#healthTimer)
    this.#healthTimer = setInterval(() => void this.#checkHealth(client), healthCheckMs)
    this.#healthTimer.unref()
    this.#events.onListening()
  }

  /**
   * Whether a NOTIFY sent through the pool reaches this connection: `unknown` when the pool
   * could not send it. (Through a transaction pooler it never arrives; trusting such a
   * connection anyway would record a pid no waiter is heard on.)
   */
  async #probe(): Promise<'arrived' | 'missing' | 'unknown'> {
    const payload = `probe:${Math.random().toString(36).slice(2)}`
    let timer: NodeJS.Timeout | undefined
    let timedOut: () => void = () => {}
    const arrived = new Promise<boolean>((resolve) => {
      this.#probes.set(payload, () => resolve(true))
      timedOut = () => resolve(false)
    })
    try {
      await this.#events.sendProbe(this.#channel, payload)
      // Counted from the send: a pool slow to lend a connection is not a path that drops NOTIFY.
      timer = setTimeout(timedOut, probeTimeoutMs)
      return (await arrived) ? 'arrived' : 'missing'
    } catch {
      return 'unknown'
    } finally {
      clearTimeout(timer)
      this.#probes.delete(payload)
    }
  }

  async #checkHealth(client: pg.Client): Promise<void> {
    try {
      const result = await client.query('SELECT 1 FROM pg_listening_channels() AS c WHERE c = $1', [this.#channel])
      if (result.rowCount === 0) throw new Error('not listening')
    } catch {
      this.#lost(client)
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return
    this.#client = undefined
    this.#listening = false
    clearInterval(this.#healthTimer)
    client.end().catch(() => {})
    if (this.#stopped) return
    const capped = Math.min(maxBackoffMs, 50 * 2 ** this.#attempt)
    this.#attempt += 1
    this.#retryTimer = setTimeout(() => void this.#connect(), capped / 2 + Math.random() * (capped / 2))
    this.#retryTimer.unref()
  }
}

/** A promise with its resolve function; already resolved unless `resolved` is false. */
function deferred(resolved = true): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {}
  const promise = new Promise<void>((r) => (resolve = r))
  if (resolved) resolve()
  return { promise, resolve }
}
