import { Coordinator, type CoordinatorOptions } from '../index.js'
import { type DatabaseTarget, UsageError } from './errors.js'

/** Options every command accepts (set on the root program). */
export interface GlobalOptions {
  databaseUrl?: string
  schema: string
  /** True when --schema was given (the demo otherwise keeps to a schema of its own). */
  schemaGiven?: boolean
  json?: boolean
}

const pgVariables = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSERVICE']

/**
 * The database the command will use, checked before connecting: a missing or unparsable
 * URL is a usage error that says what is read and how to fix it.
 */
export function databaseTarget(global: GlobalOptions): DatabaseTarget & { url: string | undefined } {
  const [url, from] =
    global.databaseUrl !== undefined
      ? [global.databaseUrl, '--database-url']
      : [process.env.DATABASE_URL || undefined, 'DATABASE_URL']
  if (url === undefined) {
    if (!pgVariables.some((name) => process.env[name])) {
      throw new UsageError(
        `no database configured: pass --database-url postgres://user:password@host:5432/database, or set DATABASE_URL (or the PG* variables: ${pgVariables.join(', ')}, PGPASSWORD)`,
      )
    }
    const where = `${process.env.PGHOST ?? 'localhost'}:${process.env.PGPORT ?? 5432}/${process.env.PGDATABASE ?? process.env.PGUSER ?? ''}`
    return { url, where, from: 'the PG* variables' }
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError(`${from} is not a URL; expected postgres://user:password@host:5432/database`)
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError(`${from} must start with postgres:// or postgresql:// (got ${parsed.protocol}//…)`)
  }
  return { url, where: `${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname}`, from }
}

/** A coordinator for one CLI command: no background reaper, warnings to stderr. */
export function openCoordinator(global: GlobalOptions, extra: CoordinatorOptions = {}): Coordinator {
  return new Coordinator({
    connectionString: databaseTarget(global).url,
    schema: global.schema,
    reaper: false,
    onWarning: (message) => process.stderr.write(`pgslots: warning: ${message}\n`),
    ...extra,
  })
}

/**
 * Runs `fn` with a coordinator and always closes it. It does not LISTEN: one-shot commands
 * wait for nothing, and read-only ones then need no more than a reader role.
 */
export async function withCoordinator<T>(global: GlobalOptions, fn: (slots: Coordinator) => Promise<T>): Promise<T> {
  const slots = openCoordinator(global, { listen: false })
  try {
    return await fn(slots)
  } finally {
    await slots.close()
  }
}

/** Prints rows as JSON (`--json`) or as an aligned text table. */
export function printRows(global: GlobalOptions, rows: Array<Record<string, unknown>>, columns: string[]): void {
  if (global.json) {
    process.stdout.write(`${JSON.stringify(rows, jsonReplacer, 2)}\n`)
    return
  }
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]?.length ?? 0)))
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  process.stdout.write(`${[line(columns), ...cells.map(line)].join('\n')}\n`)
}

export function printObject(global: GlobalOptions, value: Record<string, unknown>): void {
  if (global.json) {
    process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`)
    return
  }
  const width = Math.max(...Object.keys(value).map((k) => k.length))
  for (const [key, v] of Object.entries(value)) process.stdout.write(`${key.padEnd(width)}  ${formatCell(v)}\n`)
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

function formatCell(value: unknown): string {
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.join(',')
  if (value !== null && typeof value === 'object') return JSON.stringify(value, jsonReplacer)
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(3)
  return String(value ?? '')
}
