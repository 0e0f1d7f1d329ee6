import { runner } from 'node-pg-migrate'
import type pg from 'pg'
import { installSql } from './install-sql.js'
import { packageDir } from '../package-dir.js'

/** Result of a migration run: the migrations applied now, and the functions and views (re)installed (all empty when up to date). */
export interface MigrateResult {
  applied: string[]
  functions: string[]
  views: string[]
}

/**
 * Creates or upgrades the pgslots schema: the numbered migrations (tables and data), then
 * the SQL functions and views in their current form. Idempotent, and safe from several
 * processes at once: runs under an advisory lock of its own (keyed by schema), with its own migrations
 * table, so it never collides with the host application's migrations.
 * @internal use `coordinator.migrate()`
 */
export async function migrateSchema(pool: pg.Pool, schema: string): Promise<MigrateResult> {
  const client = await pool.connect()
  const lockKey = `pgslots:migrate:${schema}`
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey])
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
      const silent = () => {}
      const applied = await runner({
        dbClient: client,
        dir: packageDir('migrations folder', ['../migrations', '../../migrations'], '0001_baseline.sql'),
        schema,
        migrationsTable: 'pgslots_migrations',
        direction: 'up',
        noLock: true,
        singleTransaction: true,
        checkOrder: true,
        logger: { debug: silent, info: silent, warn: silent, error: silent },
      })
      const installed = await installSql(client, schema)
      return { applied: applied.map((m) => m.name), ...installed }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey])
      await client.query('RESET search_path')
    }
  } finally {
    client.release()
  }
}
