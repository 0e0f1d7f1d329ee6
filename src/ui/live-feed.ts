import type { ServerResponse } from 'node:http'
import type { Coordinator } from '../coordinator.js'
import { type AdminRights, readAdminRights } from './admin-actions.js'
import { readLive, readStats, type UiSnapshot, type UiStat } from './snapshot.js'

export interface LiveFeedOptions {
  intervalMs: number
  /** Ask for admin rights (only when the page runs with admin). */
  admin: boolean
}

// Per-minute stats change once a minute; reading them (a view over all of history) every
// interval would cost the database the most for the least.
const statsEveryMs = 5000
// A database that stops answering (a partition, not a refusal) shows the banner after this.
const stalledAfterMs = 3000
// A connection cut without a reset can hang a query until TCP gives up (minutes): after this
// the feed stops waiting for it and reads again, so the page recovers when the network does.
const abandonAfterMs = 20_000

/**
 * One poll loop for every open page: it reads the views once per interval while at least
 * one page listens, and sends the same frame to all of them as a server-sent event. Reads
 * only: no writes and no NOTIFY, so a hundred open pages cost the database one reader.
 */
export class LiveFeed {
  readonly #clients = new Set<ServerResponse>()
  readonly #slots: Coordinator
  readonly #options: LiveFeedOptions
  /** The latest frame in full, for a page that connects now. */
  #lastFull: string | undefined
  #limitsJson = ''
  #stats: UiStat[] = []
  #statsAt = 0
  #rights: AdminRights | undefined
  #running = false
  /** The latest read started; an abandoned read that ends later must not send its old frame. */
  #generation = 0
  #closed = false
  #timer: NodeJS.Timeout | undefined

  constructor(slots: Coordinator, options: LiveFeedOptions) {
    this.#slots = slots
    this.#options = options
  }

  /** Turns a GET /events response into a listener of the feed. */
  add(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
    // The browser reconnects by itself after this long if the server goes away.
    res.write('retry: 1000\n\n')
    if (this.#lastFull) res.write(this.#lastFull)
    this.#clients.add(res)
    res.on('close', () => this.#clients.delete(res))
    if (!this.#running) void this.#loop()
  }

  /** Ends every page's stream and the loop. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    for (const res of this.#clients) res.end()
    this.#clients.clear()
  }

  async #loop(): Promise<void> {
    this.#running = true
    try {
      while (this.#clients.size > 0 && !this.#closed) {
        const started = Date.now()
        await this.#tick()
        const rest = Math.max(0, this.#options.intervalMs - (Date.now() - started))
        await new Promise<void>((resolve) => (this.#timer = setTimeout(resolve, rest)))
      }
    } finally {
      this.#running = false
    }
  }

  async #tick(): Promise<void> {
    const generation = ++this.#generation
    const read = this.#read(generation)
    read.catch(() => {}) // the failure of a read given up on is nobody's news
    let stalled: NodeJS.Timeout | undefined
    const timeout = new Promise<'stalled'>((resolve) => (stalled = setTimeout(() => resolve('stalled'), stalledAfterMs)))
    try {
      const first = await Promise.race([read, timeout])
      if (first === 'stalled') {
        this.#broadcast('down', { message: `the database has not answered for ${stalledAfterMs / 1000} s` })
        // Never two reads at once, unless this one has hung for too long.
        await Promise.race([read, new Promise((resolve) => setTimeout(resolve, abandonAfterMs).unref())])
      }
    } catch (error) {
      this.#broadcast('down', { message: (error as Error).message || String((error as { code?: string }).code) })
    } finally {
      clearTimeout(stalled)
    }
  }

  async #read(generation: number): Promise<void> {
    const now = Date.now()
    const statsDue = now - this.#statsAt >= statsEveryMs
    const [live, stats, rights] = await Promise.all([
      readLive(this.#slots),
      statsDue ? readStats(this.#slots) : this.#stats,
      this.#options.admin && (statsDue || !this.#rights) ? readAdminRights(this.#slots) : this.#rights,
    ])
    if (generation !== this.#generation) return
    if (statsDue) this.#statsAt = now
    this.#stats = stats
    this.#rights = rights
    const { limits, ...rest } = live
    const frame: Omit<UiSnapshot, 'limits'> & { admin?: AdminRights } = {
      at: new Date().toISOString(),
      schema: this.#slots.schema,
      ...rest,
      stats,
      ...(rights ? { admin: rights } : {}),
    }
    // Thousands of limits are most of a frame and rarely all change: open pages get them
    // only when they did (a frame without `limits` keeps the page's last ones).
    const limitsJson = JSON.stringify(limits)
    const body = JSON.stringify(frame)
    const full = `{"limits":${limitsJson},${body.slice(1)}`
    this.#lastFull = message('snapshot', full)
    this.#send(limitsJson === this.#limitsJson ? message('snapshot', body) : this.#lastFull)
    this.#limitsJson = limitsJson
  }

  #broadcast(event: string, data: unknown): void {
    this.#send(message(event, JSON.stringify(data)))
  }

  /** Serialized once for every page. */
  #send(text: string): void {
    for (const res of this.#clients) res.write(text)
  }
}

const message = (event: string, json: string) => `event: ${event}\ndata: ${json}\n\n`
