import type pg from 'pg'
import { grantsOn } from './object-rights.js'
import { ReplaceRefused, type SqlSource } from './sql-sources.js'

/** What CREATE OR REPLACE VIEW says when a column would be dropped, renamed (42P16) or retyped (42804). */
const CANNOT_REPLACE = new Set(['42P16', '42804'])

/** The `recreate` entry that has installViews() drop every view and create it anew. @internal */
export const ALL_VIEWS = 'VIEW *'

/**
 * Installs every view in its current form, in the caller's transaction, in dependency
 * order (a view that reads another, FROM or JOIN, comes after it). CREATE OR REPLACE VIEW
 * keeps a view's rights and whatever depends on it. When it refuses a change (a column
 * dropped, renamed or retyped), ReplaceRefused asks the caller to run again with
 * ALL_VIEWS in `recreate`: then every view is dropped in one statement and created anew,
 * and the rights each had are given again. (A view of yours on a pgslots view stops that
 * drop, and PostgreSQL names it.) Views no file defines any more are dropped. @internal
 */
export async function installViews(
  client: pg.PoolClient,
  schema: string,
  sources: readonly SqlSource[],
  recreate: ReadonlySet<string>,
): Promise<void> {
  const existing = await client.query<{ name: string }>(
    "SELECT relname AS name FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'v' ORDER BY relname",
    [schema],
  )
  const quoted = (names: string[]) => names.map((name) => `"${schema}"."${name}"`).join(', ')
  const current = new Set(sources.map((s) => s.name))
  const stale = existing.rows.map((r) => r.name).filter((name) => !current.has(name))
  const grants: string[] = []
  if (recreate.has(ALL_VIEWS) && existing.rows.length > 0) {
    for (const { name } of existing.rows) {
      if (current.has(name)) grants.push(...(await grantsOn(client, schema, { kind: 'VIEW', name })))
    }
    await client.query(`DROP VIEW ${quoted(existing.rows.map((r) => r.name))}`)
  } else if (stale.length > 0) {
    await client.query(`DROP VIEW ${quoted(stale)}`)
  }
  for (const { text } of inDependencyOrder(sources)) {
    try {
      await client.query(text)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      throw typeof code === 'string' && CANNOT_REPLACE.has(code) ? new ReplaceRefused(ALL_VIEWS, error) : error
    }
  }
  for (const grant of grants) await client.query(grant)
}

function inDependencyOrder(sources: readonly SqlSource[]): SqlSource[] {
  const byName = new Map(sources.map((s) => [s.name, s]))
  const ordered: SqlSource[] = []
  const visiting = new Set<string>()
  const visit = (source: SqlSource) => {
    if (ordered.includes(source)) return
    if (visiting.has(source.name)) throw new Error(`pgslots: views read each other in a cycle through ${source.name}`)
    visiting.add(source.name)
    for (const [, name] of source.text.matchAll(/\b(?:FROM|JOIN)\s+(\w+)/g)) {
      const read = byName.get(name as string)
      if (read && read !== source) visit(read)
    }
    ordered.push(source)
  }
  for (const source of sources) visit(source)
  return ordered
}
