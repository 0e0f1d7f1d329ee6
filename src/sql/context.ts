import type pg from 'pg'
import type { LimitTurns } from './limit-turns.js'

/** Where the SQL functions live: the pool and the (validated) schema name. @internal */
export interface SqlContext {
  pool: pg.Pool
  schema: string
  /** This process's waiting room: a release hands the grants of its waiters to it directly (release_with_grants). */
  grantsTo?: GrantInbox
  /** Acquires and releases of one limit go one at a time (limit-turns.ts). */
  turns?: LimitTurns
}

/** Where a release delivers the grants it made to waiters of this process. @internal */
export interface GrantInbox {
  /** Backend pid of the process's LISTEN connection, the one its waiter rows name (null: none). */
  listenerPid(): number | null
  /** A grant in the NOTIFY payload form, taken as if it had been notified. */
  deliver(payload: string): void
}
