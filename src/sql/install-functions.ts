import type pg from 'pg'
import { grantsOn } from './object-rights.js'
import { ReplaceRefused, type SqlSource } from './sql-sources.js'

/** Public functions that run as their caller (only the owner may call them; granted to nobody). */
const OWNER_ONLY = new Set(['grant_roles'])

/** invalid_function_definition: CREATE OR REPLACE cannot change a result type, argument names or defaults. */
const CANNOT_REPLACE = '42P13'

/** What every public function is pinned to besides its search_path (see installFunctions). @internal */
export const publicFunctionSettings = 'SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off'

/**
 * Installs every SQL function in its current form, in the caller's transaction. CREATE OR
 * REPLACE keeps a function's oid, the rights granted on it and whatever depends on it, so
 * running sessions and cached plans carry on. A function whose result type or arguments
 * changed cannot be replaced: named in `recreate`, it is dropped first and the rights it
 * had are given to the new one; otherwise ReplaceRefused says which (the caller retries).
 * Then it drops the functions no file defines any more, and pins the public ones:
 * SECURITY DEFINER with a fixed search_path, so callers cannot redirect table names;
 * generic plans (re-planning each statement was over half of a call's time); and no
 * sequential scans: every statement is written as an index probe, but a generic plan over
 * a queue of one hot limit estimates that every row matches and would scan the table (and
 * its dead rows) instead; and no bitmap scans: a generic plan of `name = ANY ($1)` expects
 * ten rows and builds a bitmap, then sorts, where the index scan returns the one or two
 * rows in name order (7-9 % of an uncontended acquire's and release's time). Internal `_`
 * helpers run under the settings of their caller.
 * Nothing is executable by PUBLIC. @internal
 */
export async function installFunctions(
  client: pg.PoolClient,
  schema: string,
  sources: readonly SqlSource[],
  recreate: ReadonlySet<string>,
): Promise<void> {
  const quoted = `"${schema}"`
  for (const { name, text } of sources) {
    if (recreate.has(name)) {
      const grants = await grantsOn(client, schema, { kind: 'FUNCTION', name })
      const old = await client.query<{ fn: string }>(
        'SELECT oid::regprocedure::text AS fn FROM pg_proc WHERE pronamespace = $1::regnamespace AND proname = $2',
        [schema, name],
      )
      for (const { fn } of old.rows) await client.query(`DROP FUNCTION ${fn}`)
      await client.query(text)
      for (const grant of grants) await client.query(grant)
      continue
    }
    try {
      await client.query(text)
    } catch (error) {
      throw (error as { code?: unknown }).code === CANNOT_REPLACE ? new ReplaceRefused(name, error) : error
    }
  }
  // Functions this transaction did not (re)create are left over from an earlier version.
  const stale = await client.query<{ fn: string }>(
    `SELECT oid::regprocedure::text AS fn FROM pg_proc
     WHERE pronamespace = $1::regnamespace AND xmin <> pg_current_xact_id()::text::xid`,
    [schema],
  )
  // ROUTINE: a procedure left in the schema goes too (DROP FUNCTION refuses one).
  for (const { fn } of stale.rows) await client.query(`DROP ROUTINE ${fn}`)
  const functions = await client.query<{ fn: string; name: string }>(
    'SELECT oid::regprocedure::text AS fn, proname AS name FROM pg_proc WHERE pronamespace = $1::regnamespace',
    [schema],
  )
  for (const { fn, name } of functions.rows) {
    await client.query(`REVOKE EXECUTE ON FUNCTION ${fn} FROM PUBLIC`)
    if (name.startsWith('_')) continue
    const definer = OWNER_ONLY.has(name) ? '' : 'SECURITY DEFINER'
    await client.query(
      `ALTER FUNCTION ${fn} ${definer} SET search_path = ${quoted}, pg_temp ${publicFunctionSettings}`,
    )
  }
}
