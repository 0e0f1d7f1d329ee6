export type { AcquireOptions, RateLimitOptions } from './acquire/acquire-options.js'
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
} from './sql/schema.js'
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
export { Lease } from './lease/lease.js'
export { type LeaseInfo, Leases } from './lease/leases.js'
export { type LimitInfo, Limits, type LimitSettings, type LimitUpdate } from './limits/limits.js'
export { registerMetrics } from './limits/metrics.js'
export type { MigrateResult } from './sql/migrate.js'
export type { CoordinatorOptions, Holder } from './options.js'
export type { RoleGrants } from './sql/grant-roles.js'
export type { ReapResult } from './sql/reap.js'
export { serveUi, type UiOptions, type UiServer } from './ui/server.js'
