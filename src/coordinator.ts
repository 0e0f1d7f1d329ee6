import { EventEmitter, setMaxListeners } from 'node:events'
import { Kysely, PostgresDialect } from 'kysely'
import { type AcquireOptions, checkAcquireOptions, type RateLimitOptions, rateLimitKeys } from './acquire/acquire-options.js'
import { obtain, type RequestContext } from './acquire/request.js'
import { installCron, uninstallCron } from './reap/cron.js'
import { openPool, type PoolHandle } from './sql/pool.js'
import type { PgSlotsDatabase } from './sql/schema.js'
import { Lease } from './lease/lease.js'
import { Leases } from './lease/leases.js'
import { Limits } from './limits/limits.js'
import { type MigrateResult, migrateSchema } from './sql/migrate.js'
import { type CoordinatorOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { Reaper } from './reap/reaper.js'
import { RequestWarnings } from './acquire/request-warnings.js'
import { openRenewer, type Renewer } from './lease/renewer.js'
import { acquireSlots } from './sql/acquire.js'
import type { SqlContext } from './sql/context.js'
import { grantRoles, type RoleGrants } from './sql/grant-roles.js'
import { takeBudget } from './sql/rate-limit.js'
import { LimitTurns } from './sql/limit-turns.js'
import { releaseLease } from './sql/release.js'
import { type ReapResult, reapIfLeader } from './sql/reap.js'
import { WaitingRoom } from './wait/waiting-room.js'

/**
 * Global concurrency limits coordinated by PostgreSQL.
 * @example
 * const slots = new Coordinator({ connectionString: process.env.DATABASE_URL })
 * await slots.migrate()
 * await slots.limits.upsert('gpu:gpu-1', { slots: 2 })
 * await slots.concurrency('gpu:gpu-1', async (lease) => train({ signal: lease.signal }))
 * await slots.close()
 */
export class Coordinator {
  /**
   * What this process did, for metrics: `acquired` ({ names, occupy, waitSeconds }),
   * `leaseLost` ({ names }), `reaped` (ReapResult of this process's reaper passes).
   */
  readonly events = new EventEmitter()
  readonly limits: Limits
  readonly leases: Leases
  readonly schema: string
  readonly #options: ResolvedOptions
  readonly #pool: PoolHandle
  readonly #ctx: SqlContext
  readonly #db: Kysely<PgSlotsDatabase>
  readonly #room: WaitingRoom
  readonly #requests: RequestContext
  readonly #reaper: Reaper | undefined
  readonly #renewer: Renewer | undefined
  readonly #held = new Set<Lease>()
  /** Requests under way: close() lets them take their waiters out of line before the pool ends. */
  readonly #pending = new Set<Promise<unknown>>()
  readonly #closing = new AbortController()

  constructor(options: CoordinatorOptions = {}) {
    this.#options = resolveOptions(options)
    // Every pending request listens for close(): thousands of waiters are normal.
    setMaxListeners(0, this.#closing.signal)
    this.schema = this.#options.schema
    this.#pool = openPool(this.#options)
    this.#ctx = { pool: this.#pool.pool, schema: this.schema, turns: new LimitTurns() }
    this.#db = new Kysely<PgSlotsDatabase>({ dialect: new PostgresDialect({ pool: this.#pool.pool }) }).withSchema(
      this.schema,
    )
    this.limits = new Limits(this.#ctx, this.#db, this.#options.onWarning)
    this.leases = new Leases(this.#ctx, this.#db)
    const listen = this.#options.listenConnectionString
      ? { connectionString: this.#options.listenConnectionString }
      : this.#pool.clientConfig
    this.#room = new WaitingRoom({
      ctx: this.#ctx,
      pollIntervalMs: this.#options.pollIntervalMs,
      listen: this.#options.listen ? listen : undefined,
      onWarning: this.#options.onWarning,
    })
    this.#ctx.grantsTo = this.#room
    this.#requests = {
      room: this.#room,
      closing: this.#closing.signal,
      holder: this.#options.holder,
      warnings: new RequestWarnings(this.#options.onWarning),
    }
    if (this.#options.renewIn === 'thread') {
      this.#renewer = openRenewer(this.#pool.clientConfig, this.schema, this.#options.onWarning)
    }
    if (this.#options.reaper) {
      this.#reaper = new Reaper(this.#ctx, this.#options.reaperIntervalMs, (result) => this.events.emit('reaped', result))
    }
  }

  /**
   * Kysely on the pgslots schema, for your own read queries over the tables and views.
   * @example
   * const busy = await slots.db.selectFrom('limit_status').selectAll().where('waiting', '>', 0).execute()
   */
  get db(): Kysely<PgSlotsDatabase> {
    return this.#db
  }

  /**
   * Creates or upgrades the schema (idempotent; safe from many processes at once).
   * @example
   * await slots.migrate()
   */
  migrate(): Promise<MigrateResult> {
    return migrateSchema(this.#pool.pool, this.schema)
  }

  /**
   * Takes `occupy` slots on every named limit, all-or-nothing, waiting in FIFO order when
   * they are busy. The returned lease renews itself until released.
   * @example
   * const lease = await slots.acquire(['gpu:gpu-1', 'license:x'], { timeoutMs: 60_000 })
   * try { await work(lease.signal) } finally { await lease.release() }
   */
  async acquire(names: string | string[], options: AcquireOptions = {}): Promise<Lease> {
    return (await this.#track(this.#request(names, options, true))) as Lease
  }

  /**
   * Takes the slots if they are free right now (and nobody waits for them), else null.
   * @example
   * const lease = await slots.tryAcquire('gpu:gpu-1')
   * if (!lease) return 'busy'
   */
  async tryAcquire(names: string | string[], options: Omit<AcquireOptions, 'timeoutMs' | 'signal'> = {}): Promise<Lease | null> {
    return this.#track(this.#request(names, options, false))
  }

  /**
   * Waits until every named rate limit (slotDecayPerSecond > 0) has `occupy` budget and
   * takes it; nothing is held afterwards, the budget drains by itself. FIFO with other
   * waiters; the wait sleeps until the computed time the budget frees.
   * @example
   * await slots.rateLimit('api:openai')   // then call the API
   */
  rateLimit(names: string | string[], options: RateLimitOptions = {}): Promise<void> {
    return this.#track(this.#takeBudget(names, options))
  }

  async #takeBudget(names: string | string[], options: RateLimitOptions): Promise<void> {
    const o = checkAcquireOptions(options, this.#options.ttlMs, rateLimitKeys)
    const grant = await obtain(this.#requests, names, o, true, (args) => takeBudget(this.#ctx, args))
    // A queued request is granted as a lease; giving it back leaves only the budget taken.
    if (grant?.row.lease_id) await releaseLease(this.#ctx, grant.row.lease_id, grant.row.names ?? [])
  }

  /**
   * Runs `fn` while holding the slots and releases them afterwards, like Prefect's `concurrency()`.
   * @example
   * const out = await slots.concurrency('gpu:gpu-1', (lease) => infer(batch, lease.signal))
   */
  async concurrency<T>(
    names: string | string[],
    fn: (lease: Lease) => Promise<T> | T,
    options: AcquireOptions = {},
  ): Promise<T> {
    const lease = await this.acquire(names, options)
    let failed = false
    try {
      return await fn(lease)
    } catch (error) {
      failed = true
      throw error
    } finally {
      // A failing release must not hide the callback's own error; the ttl frees the slots.
      await lease.release().catch((error) => {
        if (!failed) throw error
      })
    }
  }

  /**
   * One reap pass now (expire leases and waiters, prune events), unless another process
   * is reaping this schema at this moment (then null).
   * @example
   * await slots.reap()
   */
  reap(): Promise<ReapResult | null> {
    return reapIfLeader(this.#ctx)
  }

  /**
   * Schedules `reap()` with pg_cron (when the extension is available), so expired leases
   * are cleaned even when no coordinator runs. Returns the pg_cron job id.
   * @example
   * await slots.installCron()            // every minute
   * await slots.installCron('10 seconds') // pg_cron >= 1.5
   */
  installCron(schedule = '* * * * *'): Promise<number> {
    return installCron(this.#pool.pool, this.schema, schedule)
  }

  /**
   * Gives existing database roles access: `worker` (acquire, wait, renew, release, reap),
   * `reader` (the dashboard views), `admin` (both, plus limits and revoke). Run as the owner.
   * @example
   * await slots.grant({ worker: 'app_worker', reader: 'grafana', admin: 'ops' })
   */
  grant(grants: RoleGrants): Promise<void> {
    return grantRoles(this.#ctx, grants)
  }

  /** Removes the pg_cron job of this schema; false when there was none. @example await slots.uninstallCron() */
  uninstallCron(): Promise<boolean> {
    return uninstallCron(this.#pool.pool, this.schema)
  }

  /**
   * Stops timers and the listener, cancels this coordinator's pending waits, releases the
   * leases it still holds, and closes the pool if it opened it. Others' leases are untouched.
   */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return
    this.#closing.abort(new Error('pgslots: coordinator closed'))
    this.#reaper?.stop()
    // Each pending request ends now: it cancels its waiter, or gives back what it was just granted.
    await Promise.allSettled([...this.#pending])
    await Promise.allSettled([...this.#held].map((lease) => lease.release()))
    await this.#renewer?.stop()
    await this.#room.close()
    await this.#db.destroy().catch(() => {})
    if (this.#pool.owned) await this.#pool.pool.end().catch(() => {})
  }

  #track<T>(request: Promise<T>): Promise<T> {
    this.#pending.add(request)
    const settled = () => void this.#pending.delete(request)
    request.then(settled, settled)
    return request
  }

  async #request(names: string | string[], options: AcquireOptions, wait: boolean): Promise<Lease | null> {
    const o = checkAcquireOptions(options, this.#options.ttlMs)
    const askedAt = performance.now()
    const grant = await obtain(this.#requests, names, o, wait, (args) => acquireSlots(this.#ctx, { ...args, ttlMs: o.ttlMs }))
    if (!grant) return null
    // No name to guard (none given, or none exists): a handle that holds nothing, as in Prefect.
    if (!grant.row.lease_id) return Lease.unguarded(this.#ctx, o.ttlMs, o.occupy)
    const held = Object.freeze([...(grant.row.names ?? [])])
    // onEnd may run inside the constructor (a grant whose trust window closed on its way
    // here), before `lease` is assigned.
    const ref: { lease?: Lease } = {}
    const lease = (ref.lease = new Lease(this.#ctx, {
      ...grant,
      ttlMs: o.ttlMs,
      occupy: o.occupy,
      renewer: this.#renewer,
      onEnd: (lost) => {
        if (ref.lease) this.#held.delete(ref.lease)
        if (lost) this.events.emit('leaseLost', { names: held })
      },
    }))
    this.events.emit('acquired', { names: held, occupy: lease.occupy, waitSeconds: (performance.now() - askedAt) / 1000 })
    if (lease.lost) throw lease.signal.reason
    this.#held.add(lease)
    if (grant.signal.aborted) {
      await lease.release()
      throw grant.signal.reason
    }
    return lease
  }
}
