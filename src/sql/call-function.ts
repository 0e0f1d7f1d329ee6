import { createHash } from 'node:crypto'
import type pg from 'pg'
import { fromDatabaseError } from '../errors.js'

/**
 * Pools whose server refused a named statement: a transaction-mode pooler in between
 * hands each transaction to another server connection, where the statement is unknown.
 */
const unpreparedPools = new WeakSet<pg.Pool>()

/**
 * The named statement was never run: it was not prepared on this server connection
 * (26000), or already was (42P05), or a function it calls now returns another type (0A000).
 */
function refusedPrepared(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return code === '26000' || code === '42P05' || (code === '0A000' && String(message).includes('cached plan'))
}

/** Each call's text and statement name, built once (names stay short: NAMEDATALEN is 64). */
const statements = new Map<string, { text: string; name: string }>()

function statementFor(schema: string, fn: string, arity: number): { text: string; name: string } {
  const key = `${schema}.${fn}.${arity}`
  let statement = statements.get(key)
  if (!statement) {
    const text = `SELECT * FROM "${schema}".${fn}(${Array.from({ length: arity }, (_, i) => `$${i + 1}`).join(', ')})`
    statement = { text, name: `pgslots_${createHash('sha256').update(text).digest('hex').slice(0, 24)}` }
    statements.set(key, statement)
  }
  return statement
}

/**
 * Calls one pgslots SQL function — one round trip, one transaction — and maps its
 * SQLSTATE to a pgslots error. `schema` is validated as an identifier beforehand.
 * The call is a named statement, so each server connection parses and plans it once
 * rather than on every call; through a pooler that refuses named statements it falls
 * back to unnamed ones (the refused call never ran, so it is sent again).
 * @internal
 */
export async function callFunction<Row extends Record<string, unknown>>(
  pool: pg.Pool,
  schema: string,
  fn: string,
  args: readonly unknown[],
): Promise<Row[]> {
  const { text, name } = statementFor(schema, fn, args.length)
  const values = args as unknown[]
  try {
    if (unpreparedPools.has(pool)) return (await pool.query<Row>(text, values)).rows
    try {
      return (await pool.query<Row>({ name, text, values })).rows
    } catch (error) {
      if (!refusedPrepared(error)) throw error
      unpreparedPools.add(pool)
      return (await pool.query<Row>(text, values)).rows
    }
  } catch (error) {
    throw fromDatabaseError(error)
  }
}

/** Same as callFunction for functions returning exactly one row. @internal */
export async function callFunctionRow<Row extends Record<string, unknown>>(
  pool: pg.Pool,
  schema: string,
  fn: string,
  args: readonly unknown[],
): Promise<Row> {
  const rows = await callFunction<Row>(pool, schema, fn, args)
  const row = rows[0]
  if (!row) throw new Error(`pgslots: ${fn}() returned no row`)
  return row
}

/** Milliseconds as a PostgreSQL interval literal. @internal */
export function interval(ms: number): string {
  return `${ms} milliseconds`
}
