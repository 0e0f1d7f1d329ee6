import { PgSlotsError, ValidationError } from '../errors.js'
import { permissionHint } from './needed-grant.js'
import { InterruptedError } from './signals.js'

/** Wrong use of the command line (exit 2). */
export class UsageError extends Error {
  readonly usage = true
}

/** Where the CLI connects, as it can be shown (never the password). */
export interface DatabaseTarget {
  /** host:port/database */
  where: string
  /** Which setting it came from: --database-url, DATABASE_URL or the PG* variables. */
  from: string
}

const unreachable = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET'])
const notInstalled = new Set(['3F000', '42P01', '42883'])

// The library names its fields (ttlMs); a CLI user typed a flag (--ttl), or an argument.
const flagOf: Record<string, string> = {
  occupy: '-n/--occupy',
  ttlMs: '--ttl',
  timeoutMs: '--timeout',
  priority: '--priority',
  slots: '--slots',
  slotDecayPerSecond: '--slot-decay-per-second',
  fencingToken: '<fencingToken>',
  name: '<name>',
  names: '<names>',
}

/** A validation message that starts with a library field (`ttlMs: ...`), in the flag's name. */
function inFlagTerms(message: string): string {
  return message.replace(/^(\w+)(\[\d+\])?:/, (whole, field: string) => (flagOf[field] ? `${flagOf[field]}:` : whole))
}

/** One line for stderr and the exit code: 2 for usage, 1 for everything that went wrong at run time. */
export function describeError(
  error: unknown,
  schema: string,
  target: DatabaseTarget | undefined,
  command: string,
): { line: string; code: number } {
  if (error instanceof ValidationError) return { line: inFlagTerms(error.message), code: 2 }
  if ((error as { usage?: boolean } | null)?.usage === true) return { line: (error as Error).message, code: 2 }
  if (error instanceof InterruptedError) return { line: error.message, code: error.exitCode }
  if (error instanceof PgSlotsError) return { line: error.message, code: 1 }
  const code = (error as { code?: string } | null)?.code ?? ''
  const message = (error as Error | null)?.message ?? String(error)
  const at = target ? `${target.where} (from ${target.from})` : 'the database'
  if (unreachable.has(code) || /timeout expired|Connection terminated/i.test(message)) {
    return { line: `cannot reach PostgreSQL at ${at}: ${message || code}; is it running, and is the URL right?`, code: 1 }
  }
  if (code === '28P01' || code === '28000') return { line: `PostgreSQL at ${at} refused the login: ${message}`, code: 1 }
  if (code === '3D000') return { line: `${message} at ${at}`, code: 1 }
  if (notInstalled.has(code)) {
    return {
      line: `the pgslots schema "${schema}" is not installed in ${at} (${message}): run \`pgslots migrate\` as the schema owner`,
      code: 1,
    }
  }
  if (code === '42501') return { line: `${message}: ${permissionHint(command)}`, code: 1 }
  return { line: message, code: 1 }
}
