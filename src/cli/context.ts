import { Coordinator, type CoordinatorOptions } from '../index.js'

/** Options every command accepts (set on the root program). */
export interface GlobalOptions {
  databaseUrl?: string
  schema: string
  json?: boolean
}

/** A coordinator for one CLI command: no background reaper, warnings to stderr. */
export function openCoordinator(global: GlobalOptions, extra: CoordinatorOptions = {}): Coordinator {
  return new Coordinator({
    connectionString: global.databaseUrl ?? process.env.DATABASE_URL,
    schema: global.schema,
    reaper: false,
    onWarning: (message) => process.stderr.write(`pgslots: warning: ${message}\n`),
    ...extra,
  })
}

/** Runs `fn` with a coordinator and always closes it. */
export async function withCoordinator<T>(global: GlobalOptions, fn: (slots: Coordinator) => Promise<T>): Promise<T> {
  const slots = openCoordinator(global)
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
