import type pg from 'pg'
import { fromDatabaseError } from '../errors.js'

/**
 * Calls one pgslots SQL function — one round trip, one transaction — and maps its
 * SQLSTATE to a pgslots error. `schema` is validated as an identifier beforehand.
 * @internal
 */
export async function callFunction<Row extends Record<string, unknown>>(
  pool: pg.Pool,
  schema: string,
  fn: string,
  args: readonly unknown[],
): Promise<Row[]> {
  const params = args.map((_, i) => `$${i + 1}`).join(', ')
  try {
    const result = await pool.query<Row>(`SELECT * FROM "${schema}".${fn}(${params})`, args as unknown[])
    return result.rows
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
