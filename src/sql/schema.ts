import type { ColumnType, Generated } from 'kysely'

/**
 * Kysely types of the pgslots tables, for your own read queries:
 * @example
 * const db = new Kysely<PgSlotsDatabase>({ dialect: new PostgresDialect({ pool }) }).withSchema('pgslots')
 * const busy = await db.selectFrom('limits').select(['name', 'active_slots']).where('active_slots', '>', 0).execute()
 */
export interface PgSlotsDatabase {
  limits: LimitsTable
  leases: LeasesTable
  waiters: WaitersTable
  history: HistoryTable
  settings: SettingsTable
  /** Views (read-only). */
  limit_status: LimitStatusView
  active_leases: ActiveLeasesView
  waiting: WaitingView
  lease_history: LeaseHistoryView
  events: EventsView
  stats_per_minute: StatsPerMinuteView
}

type Timestamp = ColumnType<Date, Date | string, Date | string>
/** bigint columns arrive as strings from node-postgres (they may exceed 2^53). */
type BigIntColumn = ColumnType<string, string | number | bigint, string | number | bigint>
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>
type GeneratedBigInt = ColumnType<string, string | number | bigint | undefined, string | number | bigint>

export interface LimitsTable {
  name: string
  slots: number
  active: Generated<boolean>
  slot_decay_per_second: Generated<number>
  active_slots: Generated<number>
  denied_slots: GeneratedBigInt
  avg_slot_occupancy_seconds: Generated<number>
  /** A rate limit's bucket level at decayed_at; it drains at slot_decay_per_second. */
  decaying_slots: Generated<number>
  decayed_at: GeneratedTimestamp
  created_at: GeneratedTimestamp
  updated_at: GeneratedTimestamp
  /** The template (e.g. 'gpu:*') this limit was created from. */
  template: Generated<string | null>
}

export interface LeasesTable {
  id: string
  /** Issued by the SQL function `_next_fencing_token()` only (the column has no default). */
  fencing_token: BigIntColumn
  /** The requested limits that existed at grant time. */
  names: string[]
  /** The concurrency limits it holds slots on. */
  counted: string[]
  occupy: number
  holder: unknown
  ttl: unknown
  asked_at: Timestamp
  acquired_at: Timestamp
  expires_at: Timestamp
  /** The waiter ticket it was granted to; null when taken without waiting. */
  ticket: BigIntColumn | null
  /** Where the WAL stood at the grant (orders grants and ends per limit exactly). */
  granted_lsn: ColumnType<string, string | undefined, string>
}

/** One row per place in a limit's queue (a request waiting on two limits has two rows). */
export interface WaitersTable {
  queue: string
  ticket: BigIntColumn
  id: string
  queues: string[]
  names: string[]
  occupy: number
  holder: unknown
  ttl: unknown
  heartbeat: unknown
  asked_at: Timestamp
  expires_at: Timestamp
  listener_pid: number | null
  priority: Generated<number>
}

type HistoryKind = 'released' | 'expired' | 'revoked' | 'cancelled' | 'denied' | 'limit_changed' | 'limit_deleted'

/** One row per finished lease, ended wait, denied request and limit change. */
export interface HistoryTable {
  id: GeneratedBigInt
  kind: HistoryKind
  names: string[]
  counted: string[] | null
  occupy: number
  fencing_token: BigIntColumn | null
  ticket: BigIntColumn | null
  holder: unknown
  asked_at: Timestamp | null
  granted_at: Timestamp | null
  ended_at: Timestamp
  /** Limit changes: the limit's slots, active flag and decay after the change. */
  slots: number | null
  active: boolean | null
  slot_decay_per_second: number | null
  granted_lsn: string | null
  ended_lsn: ColumnType<string, string | undefined, string>
}

export interface SettingsTable {
  key: string
  value: string
}

export interface LimitStatusView {
  name: string
  slots: number
  active: boolean
  slot_decay_per_second: number
  used: number
  free: number
  waiting: number
  utilisation: string | null
  denied: string
  avg_occupancy_seconds: number
  created_at: Date
  updated_at: Date
  kind: 'limit' | 'template'
  template: string | null
  /** A rate limit's budget in use now (fractional); null for a concurrency limit. */
  bucket_level: number | null
  /** When the next slot of a rate limit's budget frees; null when one is free now. */
  bucket_frees_at: Date | null
}

export interface ActiveLeasesView {
  fencing_token: string
  names: string[]
  counted: string[]
  occupy: number
  holder: unknown
  asked_at: Date
  acquired_at: Date
  expires_at: Date
  age: unknown
  expires_in: unknown
}

export interface WaitingView {
  ticket: string
  names: string[]
  queues: string[]
  occupy: number
  holder: unknown
  created_at: Date
  wait_age: unknown
  priority: number
}

export interface LeaseHistoryView {
  id: string
  ended_how: 'released' | 'expired' | 'revoked' | 'cancelled' | 'denied'
  names: string[]
  counted: string[] | null
  occupy: number
  fencing_token: string | null
  ticket: string | null
  holder: unknown
  asked_at: Date | null
  granted_at: Date | null
  ended_at: Date
  wait_seconds: number | null
  held_seconds: number | null
}

/** A timeline derived from history and the live rows. */
export interface EventsView {
  at: Date
  kind: HistoryKind | 'acquired' | 'queued'
  names: string[]
  occupy: number
  fencing_token: string | null
  holder: unknown
  wait_seconds: number | null
  held_seconds: number | null
  slots: number | null
  active: boolean | null
}

export interface StatsPerMinuteView {
  minute: Date
  limit_name: string
  acquisitions: string
  wait_p50_seconds: number | null
  wait_p95_seconds: number | null
  expirations: string
  denials: string
  revocations: string
  avg_held_seconds: number | null
}
