import { describe, expect, it } from 'vitest'
import {
  fromDatabaseError,
  ImpossibleRequestError,
  LeaseLostError,
  LimitExistsError,
  LimitNotFoundError,
  PgSlotsError,
  ValidationError,
} from '../../src/errors.js'

describe('fromDatabaseError', () => {
  it.each([
    ['PS400', ValidationError, 'PGSLOTS_VALIDATION'],
    ['PS404', LimitNotFoundError, 'PGSLOTS_LIMIT_NOT_FOUND'],
    ['PS409', LimitExistsError, 'PGSLOTS_LIMIT_EXISTS'],
    ['PS410', LeaseLostError, 'PGSLOTS_LEASE_LOST'],
    ['PS422', ImpossibleRequestError, 'PGSLOTS_IMPOSSIBLE_REQUEST'],
  ])('maps SQLSTATE %s to its class with a stable code', (sqlState, ErrorClass, code) => {
    const raw = Object.assign(new Error('boom'), { code: sqlState })
    const mapped = fromDatabaseError(raw)
    expect(mapped).toBeInstanceOf(ErrorClass)
    expect(mapped).toBeInstanceOf(PgSlotsError)
    expect((mapped as PgSlotsError).code).toBe(code)
    expect((mapped as PgSlotsError).cause).toBe(raw)
    expect((mapped as Error).name).toBe(ErrorClass.name)
  })

  it('leaves driver and connectivity errors untouched', () => {
    const raw = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })
    expect(fromDatabaseError(raw)).toBe(raw)
    expect(fromDatabaseError(undefined)).toBeUndefined()
  })
})
