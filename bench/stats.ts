/** Percentile (0–100) of a list of numbers, nearest-rank; NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

export function median(values: number[]): number {
  return percentile(values, 50)
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits))

/**
 * Round trips to the current database so far: top-level statements counted by
 * pg_stat_statements when it is loaded (the bench's embedded Postgres preloads it), else
 * committed transactions (every round trip commits one, but so does background work).
 */
export async function databaseCalls(query: (sql: string) => Promise<{ rows: { n: string }[] }>): Promise<number> {
  try {
    const result = await query(
      `SELECT sum(calls)::text AS n FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND toplevel
         AND query NOT LIKE '%pg_stat_statements%'`,
    )
    return Number(result.rows[0]?.n ?? 0)
  } catch {
    const result = await query('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()')
    return Number(result.rows[0]?.n ?? 0)
  }
}
