import { ValidationError } from './errors.js'

/** Throws a ValidationError that names the field and shows the offending value. */
export function invalid(field: string, rule: string, value: unknown): never {
  throw new ValidationError(`${field}: ${rule}, got ${show(value)}`)
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'number') return String(value)
  if (typeof value === 'function') return 'a function'
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** Rejects keys the caller did not mean to pass (typos would otherwise be silently ignored). */
export function checkKnownKeys(field: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) invalid(`${field}.${key}`, `unknown option (known: ${known.join(', ')})`, key)
  }
}

// C0 controls, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/

/** A limit name: 1–200 characters, no control characters. */
export function checkLimitName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || value.length < 1 || [...value].length > 200 || controlCharacters.test(value)) {
    invalid(field, 'must be a string of 1-200 characters without control characters', value)
  }
  if (value.slice(0, -1).includes('*')) invalid(field, "'*' may only end a template name (gpu:*)", value)
  if (value === '*') invalid(field, "a template needs a prefix before '*' (gpu:*); a catch-all would guard every misspelt name", value)
  return value
}

/** The most names one request may carry: it locks one limit row per name until it commits. */
export const MAX_NAMES_PER_REQUEST = 100

/** One name or an array of names (empty: nothing to guard). */
export function checkLimitNames(value: unknown): string[] {
  const names = typeof value === 'string' ? [value] : value
  if (!Array.isArray(names)) invalid('names', 'must be a limit name or an array of names', value)
  if (names.length > MAX_NAMES_PER_REQUEST) {
    throw new ValidationError(`names: at most ${MAX_NAMES_PER_REQUEST} names per request, got ${names.length}`)
  }
  return names.map((name, index) => {
    const field = Array.isArray(value) ? `names[${index}]` : 'names'
    const checked = checkLimitName(name, field)
    if (checked.endsWith('*')) invalid(field, 'is a template, which holds no slots; ask for a name it covers', name)
    return checked
  })
}

export function checkInteger(field: string, value: unknown, min: number, max = 2_147_483_647): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(field, `must be an integer between ${min} and ${max}`, value)
  }
  return value
}

export function checkNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    invalid(field, `must be a number between ${min} and ${max}`, value)
  }
  return value
}

export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') invalid(field, 'must be true or false', value)
  return value
}

export function checkString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) invalid(field, 'must be a non-empty string', value)
  return value
}
