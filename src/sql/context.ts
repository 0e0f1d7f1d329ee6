import type pg from 'pg'

/** Where the SQL functions live: the pool and the (validated) schema name. @internal */
export interface SqlContext {
  pool: pg.Pool
  schema: string
}
