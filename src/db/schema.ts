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
  lease_limits: LeaseLimitsTable
  waiters: WaitersTable
  waiter_limits: WaiterLimitsTable
  event_log: EventsTable
  settings: SettingsTable
  /** Views (read-only). */
  events: EventsTable
  limit_status: LimitStatusView
  active_leases: ActiveLeasesView
  waiting: WaitingView
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
  created_at: GeneratedTimestamp
  updated_at: GeneratedTimestamp
}

export interface LeasesTable {
  id: Generated<string>
  fencing_token: GeneratedBigInt
  names: string[]
  occupy: number
  holder: unknown
  ttl: unknown
  acquired_at: Timestamp
  expires_at: Timestamp
}

export interface LeaseLimitsTable {
  limit_name: string
  lease_id: string
  occupy: number
}

export interface WaitersTable {
  id: Generated<string>
  ticket: BigIntColumn
  names: string[]
  occupy: number
  holder: unknown
  ttl: unknown
  heartbeat: unknown
  created_at: Timestamp
  expires_at: Timestamp
  lease_id: string | null
  granted_at: Timestamp | null
}

export interface WaiterLimitsTable {
  limit_name: string
  ticket: BigIntColumn
  waiter_id: string
}

export interface EventsTable {
  id: GeneratedBigInt
  at: GeneratedTimestamp
  kind:
    | 'acquired'
    | 'released'
    | 'expired'
    | 'revoked'
    | 'denied'
    | 'queued'
    | 'cancelled'
    | 'limit_changed'
    | 'limit_deleted'
  names: string[]
  occupy: number
  fencing_token: BigIntColumn | null
  holder: unknown
  wait_seconds: number | null
  held_seconds: number | null
  /** Limit events: the limit's slots and active flag after the change. */
  slots: number | null
  active: boolean | null
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
}

export interface ActiveLeasesView {
  fencing_token: string
  names: string[]
  occupy: number
  holder: unknown
  acquired_at: Date
  expires_at: Date
  age: unknown
  expires_in: unknown
}

export interface WaitingView {
  ticket: string
  names: string[]
  occupy: number
  holder: unknown
  created_at: Date
  wait_age: unknown
  granted: boolean
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
