import { createHash } from 'node:crypto'
import type pg from 'pg'
import { installFunctions, publicFunctionSettings } from './install-functions.js'
import { installViews } from './install-views.js'
import { readSqlSources, ReplaceRefused } from './sql-sources.js'

/** What installSql() (re)installed; both empty when the installed sources were already current. @internal */
export interface InstalledSql {
  functions: string[]
  views: string[]
}

/**
 * Installs the SQL functions and views in their current form, in one transaction, after
 * the migrations: skipped when the sources, and the settings public functions are pinned
 * to, are the ones installed last (their digest is kept in settings). When CREATE OR
 * REPLACE refuses an object, the transaction runs again with that object dropped and
 * created anew, its rights carried over. The caller holds the schema's migration lock.
 * @internal
 */
export async function installSql(client: pg.PoolClient, schema: string): Promise<InstalledSql> {
  const functions = await readSqlSources('functions', 'acquire.sql')
  const views = await readSqlSources('views', 'limit_status.sql')
  const digest = createHash('sha256')
  // The settings too: a database installed with others gets them, though no source changed.
  digest.update(`${publicFunctionSettings}\0`)
  for (const { name, text } of [...functions, ...views]) digest.update(`${name}\0${text}\0`)
  const sha256 = digest.digest('hex')
  const recreate = new Set<string>()
  for (;;) {
    await client.query('BEGIN')
    try {
      await client.query(`SET LOCAL search_path = "${schema}", pg_temp`)
      await client.query('SET LOCAL check_function_bodies = off')
      const installed = await client.query("SELECT value FROM settings WHERE key = 'installed_sql_sha256'")
      if (installed.rows[0]?.value === sha256) {
        await client.query('COMMIT')
        return { functions: [], views: [] }
      }
      await installFunctions(client, schema, functions, recreate)
      await installViews(client, schema, views, recreate)
      await client.query(
        `INSERT INTO settings (key, value) VALUES ('installed_sql_sha256', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [sha256],
      )
      await client.query('COMMIT')
      return { functions: functions.map((f) => f.name), views: views.map((v) => v.name) }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      if (!(error instanceof ReplaceRefused) || recreate.has(error.object)) throw error
      recreate.add(error.object)
    }
  }
}
