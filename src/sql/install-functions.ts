import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import type pg from 'pg'
import { packageDir } from '../package-dir.js'

/** Public functions that run as their caller (only the owner may call them; granted to nobody). */
const OWNER_ONLY = new Set(['grant_roles'])

/**
 * Installs every SQL function in its current form (CREATE OR REPLACE keeps the rights
 * granted on it), drops the ones no file defines any more, and pins the public ones:
 * SECURITY DEFINER with a fixed search_path, so callers cannot redirect table names;
 * generic plans (re-planning each statement was over half of a call's time); and no
 * sequential scans: every statement is written as an index probe, but a generic plan over
 * a queue of one hot limit estimates that every row matches and would scan the table (and
 * its dead rows) instead. Internal `_` helpers run under the settings of their caller.
 * Skipped when the installed set is the same. The caller holds the schema's migration lock.
 * @internal
 */
export async function installFunctions(client: pg.PoolClient, schema: string): Promise<string[]> {
  const dir = packageDir('src/sql/functions', ['./sql/functions', '../../src/sql/functions'], 'acquire.sql')
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  const sources = await Promise.all(files.map((f) => readFile(`${dir}/${f}`, 'utf8')))
  const digest = createHash('sha256').update(sources.join('\0')).digest('hex')
  const quoted = `"${schema}"`
  await client.query('BEGIN')
  try {
    await client.query(`SET LOCAL search_path = ${quoted}, pg_temp`)
    await client.query('SET LOCAL check_function_bodies = off')
    const installed = await client.query("SELECT value FROM settings WHERE key = 'functions_sha256'")
    if (installed.rows[0]?.value === digest) {
      await client.query('COMMIT')
      return []
    }
    for (const source of sources) await client.query(source)
    // Functions this transaction did not (re)create are left over from an earlier version.
    const stale = await client.query<{ fn: string }>(
      `SELECT p.oid::regprocedure::text AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = $1 AND p.xmin <> pg_current_xact_id()::text::xid`,
      [schema],
    )
    for (const { fn } of stale.rows) await client.query(`DROP FUNCTION ${fn}`)
    const functions = await client.query<{ fn: string; name: string }>(
      `SELECT p.oid::regprocedure::text AS fn, p.proname AS name FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1`,
      [schema],
    )
    for (const { fn, name } of functions.rows) {
      await client.query(`REVOKE EXECUTE ON FUNCTION ${fn} FROM PUBLIC`)
      if (name.startsWith('_')) continue
      const definer = OWNER_ONLY.has(name) ? '' : 'SECURITY DEFINER'
      await client.query(
        `ALTER FUNCTION ${fn} ${definer} SET search_path = ${quoted}, pg_temp SET plan_cache_mode = force_generic_plan SET enable_seqscan = off`,
      )
    }
    await client.query(
      `INSERT INTO settings (key, value) VALUES ('functions_sha256', $1)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [digest],
    )
    await client.query('COMMIT')
    return files.map((f) => f.replace(/\.sql$/, ''))
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}
