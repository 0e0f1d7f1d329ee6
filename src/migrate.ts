import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runner } from 'node-pg-migrate'
import type pg from 'pg'
import { installFunctions } from './install-functions.js'

/** The shipped `migrations/` folder, found from both `src/` (tests) and `dist/src/` (package). */
function migrationsDir(): string {
  for (const relative of ['../migrations', '../../migrations']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url))
    if (existsSync(`${dir}/0001_baseline.sql`)) return dir
  }
  throw new Error('pgslots: migrations folder not found next to the package')
}

/** Result of a migration run: the migrations applied now and the functions (re)installed (both empty when up to date). */
export interface MigrateResult {
  applied: string[]
  functions: string[]
}

/**
 * Creates or upgrades the pgslots schema: the numbered migrations (tables, views, data),
 * then the SQL functions in their current form. Idempotent, and safe from several processes at
 * once: runs under an advisory lock of its own (keyed by schema), with its own migrations
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
        dir: migrationsDir(),
        schema,
        migrationsTable: 'pgslots_migrations',
        direction: 'up',
        noLock: true,
        singleTransaction: true,
        checkOrder: true,
        logger: { debug: silent, info: silent, warn: silent, error: silent },
      })
      await client.query('RESET search_path')
      const functions = await installFunctions(client, schema)
      return { applied: applied.map((m) => m.name), functions }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey])
      await client.query('RESET search_path')
    }
  } finally {
    client.release()
  }
}
