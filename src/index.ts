export type { AcquireOptions, RateLimitOptions } from './acquire-options.js'
export { Coordinator } from './coordinator.js'
export type {
  ActiveLeasesView,
  EventsView,
  HistoryTable,
  LeaseHistoryView,
  LeasesTable,
  LimitStatusView,
  LimitsTable,
  PgSlotsDatabase,
  SettingsTable,
  StatsPerMinuteView,
  WaitersTable,
  WaitingView,
} from './db/schema.js'
export {
  AcquireTimeoutError,
  ImpossibleRequestError,
  LeaseLostError,
  LimitExistsError,
  LimitNotFoundError,
  PgSlotsError,
  type PgSlotsErrorCode,
  ValidationError,
} from './errors.js'
export { Lease } from './lease.js'
export { type LeaseInfo, Leases } from './leases.js'
export { type LimitInfo, Limits, type LimitSettings, type LimitUpdate } from './limits.js'
export { registerMetrics } from './metrics.js'
export type { MigrateResult } from './migrate.js'
export type { CoordinatorOptions, Holder } from './options.js'
export type { RoleGrants } from './sql/grant-roles.js'
export type { ReapResult } from './sql/reap.js'
export { serveUi, type UiOptions, type UiServer } from './ui/server.js'
