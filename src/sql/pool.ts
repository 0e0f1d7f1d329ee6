import pg from 'pg'
import type { ResolvedOptions } from '../options.js'

/** The pool pgslots talks through, and whether it is ours to close. @internal */
export interface PoolHandle {
  pool: pg.Pool
  owned: boolean
  /** Settings to open extra connections (the LISTEN client) to the same database. */
  clientConfig: pg.ClientConfig
}

export function openPool(options: ResolvedOptions): PoolHandle {
  if (options.pool) {
    const config = (options.pool as unknown as { options: pg.ClientConfig }).options
    // pg-pool keeps the password out of enumeration (stack traces): copy it by name.
    const clientConfig: pg.ClientConfig = { ...config }
    if (config.password !== undefined) clientConfig.password = config.password
    return { pool: options.pool, owned: false, clientConfig }
  }
  const clientConfig: pg.ClientConfig = {
    connectionString: options.connectionString,
    application_name: 'pgslots',
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  }
  const pool = new pg.Pool({ ...clientConfig, max: options.maxConnections, idleTimeoutMillis: 30_000 })
  // A client that loses its connection must not crash the process — idle in the pool, or
  // checked out between two queries (pg emits 'error' with no listener there). The query
  // in flight rejects; the next one reconnects.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  return { pool, owned: true, clientConfig }
}
