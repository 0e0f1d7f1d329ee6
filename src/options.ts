import { ValidationError } from './errors.js'
import { hostname } from 'node:os'
import type pg from 'pg'
import { rules } from './sql/rules.js'
import { checkBoolean, checkInteger, checkKnownKeys, checkString, invalid } from './validate.js'

/** Who holds a lease, as stored in `leases.holder` (any JSON value). */
export type Holder = string | Record<string, unknown>

export interface CoordinatorOptions {
  /** PostgreSQL URL; defaults to `DATABASE_URL`, then the `PG*` environment variables. */
  connectionString?: string | undefined
  /** A pool of yours to use instead of opening one; pgslots never closes it. */
  pool?: pg.Pool | undefined
  /** Schema of the pgslots tables and functions (lowercase identifier). Default `pgslots`. */
  schema?: string | undefined
  /** Recorded on every lease. Default `${hostname}:${pid}`. */
  holder?: Holder | undefined
  /** Use LISTEN/NOTIFY for handoff. `false` (or a pooler that drops notifications) means polling. */
  listen?: boolean | undefined
  /** Direct (non-pooled) URL for the LISTEN connection when `connectionString` points at a pooler. */
  listenConnectionString?: string | undefined
  /** Run the leader-elected in-process reaper. Default true. */
  reaper?: boolean | undefined
  /** How often the in-process reaper runs. Default 5000 ms. */
  reaperIntervalMs?: number | undefined
  /** Default lease time-to-live. Default 30000 ms. */
  ttlMs?: number | undefined
  /** How often this process heartbeats its waiters and re-checks them. Default 1000 ms. */
  pollIntervalMs?: number | undefined
  /**
   * Where leases are renewed: `'thread'` (default) renews from a worker thread with a
   * connection of its own, so a holder whose event loop is blocked by CPU-bound work keeps
   * its slots while the process lives; `'event-loop'` renews on the caller's event loop
   * (one connection fewer, but a loop blocked past the trust window loses the lease).
   */
  renewIn?: 'thread' | 'event-loop' | undefined
  /** Connections in the pool opened by pgslots. Default 10. */
  maxConnections?: number | undefined
  /** Receives warnings (missing limits, lowered slots...). Default `console.warn`. */
  onWarning?: ((message: string) => void) | undefined
}

/** @internal */
export interface ResolvedOptions {
  connectionString: string | undefined
  pool: pg.Pool | undefined
  schema: string
  holder: Holder
  listen: boolean
  listenConnectionString: string | undefined
  reaper: boolean
  reaperIntervalMs: number
  ttlMs: number
  pollIntervalMs: number
  renewIn: 'thread' | 'event-loop'
  maxConnections: number
  onWarning: (message: string) => void
}

const knownKeys = [
  'connectionString',
  'pool',
  'schema',
  'holder',
  'listen',
  'listenConnectionString',
  'reaper',
  'reaperIntervalMs',
  'ttlMs',
  'pollIntervalMs',
  'renewIn',
  'maxConnections',
  'onWarning',
] as const

/**
 * A lowercase identifier of at most 50 characters, so it is quoted into SQL as it is and
 * stays well under PostgreSQL's 63-byte names. (It is also hashed into the first half of
 * every listener's advisory lock, hashtext('pgslots_' || schema): see _listener_lock_key.sql.
 * Channels are per process, `pgslots_<pid>`, and do not contain it.)
 */
const schemaPattern = /^[a-z_][a-z0-9_]{0,49}$/

export function checkSchema(value: unknown): string {
  if (typeof value !== 'string' || !schemaPattern.test(value)) {
    invalid('schema', 'must be a lowercase identifier of 1-50 characters (a-z, 0-9, _)', value)
  }
  return value
}

/** A holder is copied into the lease, each waiter row and history: kept small (rules.holder). */
export function checkHolder(field: string, value: unknown): Holder {
  const plain = value !== null && typeof value === 'object' && !Array.isArray(value)
  if (!(typeof value === 'string' && value.length > 0) && !plain) invalid(field, 'must be a non-empty string or a JSON object', value)
  // Measured as the database measures it: the compact JSON text.
  const bytes = Buffer.byteLength(JSON.stringify(value))
  if (bytes > rules.holder.maxBytes) throw new ValidationError(`${field}: ${rules.holder.tooBig}, got ${bytes} bytes`)
  return value as Holder
}

/** A ttl (or any caller-chosen duration) in milliseconds, within rules.duration. */
export function checkTtlMs(field: string, value: unknown): number {
  return checkInteger(field, value, rules.duration.minMs, rules.duration.maxMs)
}

/** Applies defaults, then validates; errors name the offending field. */
export function resolveOptions(input: CoordinatorOptions = {}): ResolvedOptions {
  if (input === null || typeof input !== 'object') invalid('options', 'must be an object', input)
  checkKnownKeys('options', input, knownKeys)
  const o = {
    connectionString: input.connectionString ?? (input.pool ? undefined : process.env.DATABASE_URL),
    pool: input.pool,
    schema: input.schema ?? 'pgslots',
    holder: input.holder ?? `${hostname()}:${process.pid}`,
    listen: input.listen ?? true,
    listenConnectionString: input.listenConnectionString,
    reaper: input.reaper ?? true,
    reaperIntervalMs: input.reaperIntervalMs ?? 5000,
    ttlMs: input.ttlMs ?? 30_000,
    pollIntervalMs: input.pollIntervalMs ?? 1000,
    renewIn: input.renewIn ?? 'thread',
    maxConnections: input.maxConnections ?? 10,
    onWarning: input.onWarning ?? ((message: string) => console.warn(`pgslots: ${message}`)),
  }
  if (o.connectionString !== undefined) checkString('connectionString', o.connectionString)
  if (o.listenConnectionString !== undefined) checkString('listenConnectionString', o.listenConnectionString)
  if (o.pool !== undefined && (typeof o.pool !== 'object' || typeof o.pool.query !== 'function')) {
    invalid('pool', 'must be a pg.Pool', o.pool)
  }
  checkSchema(o.schema)
  checkHolder('holder', o.holder)
  checkBoolean('listen', o.listen)
  checkBoolean('reaper', o.reaper)
  checkInteger('reaperIntervalMs', o.reaperIntervalMs, 100, 3_600_000)
  checkTtlMs('ttlMs', o.ttlMs)
  checkInteger('pollIntervalMs', o.pollIntervalMs, 10, 60_000)
  if (o.renewIn !== 'thread' && o.renewIn !== 'event-loop') invalid('renewIn', "must be 'thread' or 'event-loop'", o.renewIn)
  checkInteger('maxConnections', o.maxConnections, 1, 1000)
  if (typeof o.onWarning !== 'function') invalid('onWarning', 'must be a function', o.onWarning)
  return o
}
