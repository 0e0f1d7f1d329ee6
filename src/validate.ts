import { ValidationError } from './errors.js'
import { rules } from './sql/rules.js'

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

/** A limit name (the rule: src/sql/rules.ts, as _check_name.sql says it to SQL callers). */
export function checkLimitName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string') invalid(field, 'must be a string', value)
  if (value.length < 1 || [...value].length > rules.name.maxChars || controlCharacters.test(value)) {
    invalid(field, rules.name.size, value)
  }
  if (value.slice(0, -1).includes('*')) invalid(field, rules.name.star, value)
  if (value === '*') invalid(field, rules.name.catchAll, value)
  return value
}

/** One name or an array of names (empty: nothing to guard); as _check_request.sql has them. */
export function checkLimitNames(value: unknown): string[] {
  const names = typeof value === 'string' ? [value] : value
  if (!Array.isArray(names)) invalid('names', 'must be a limit name or an array of names', value)
  if (names.length > rules.names.max) invalid('names', rules.names.tooMany, names.length)
  return names.map((name, index) => {
    const field = Array.isArray(value) ? `names[${index}]` : 'names'
    const checked = checkLimitName(name, field)
    if (checked.endsWith('*')) invalid(field, rules.name.template, name)
    return checked
  })
}

/** An integer from min to max; refused in the words of `rule` when a rule of src/sql/rules.ts has them. */
export function checkInteger(
  field: string,
  value: unknown,
  min: number,
  max = 2_147_483_647,
  rule = `must be an integer between ${min} and ${max}`,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) invalid(field, rule, value)
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
