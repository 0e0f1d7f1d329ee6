import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { resolveOptions } from '../../src/options.js'

describe('resolveOptions', () => {
  it('applies defaults', () => {
    const o = resolveOptions({ connectionString: 'postgres://x@127.0.0.1/db' })
    expect(o).toMatchObject({ schema: 'pgslots', listen: true, reaper: true, ttlMs: 30_000 })
    expect(o.holder).toMatch(/:\d+$/)
  })

  it.each([
    [{ schema: 'Bad-Schema' }, /schema/],
    [{ schema: 'x"; DROP TABLE y; --' }, /schema/],
    [{ schema: 'a'.repeat(51) }, /schema/],
    [{ ttlMs: 10 }, /ttlMs.*10/],
    [{ ttlMs: Number.NaN }, /ttlMs/],
    [{ listen: 'yes' }, /listen/],
    [{ pollIntervalMs: 0 }, /pollIntervalMs/],
    [{ renewIn: 'worker' }, /renewIn/],
    [{ holder: '' }, /holder/],
    [{ holder: ['a'] }, /holder/],
    [{ conectionString: 'typo' }, /options\.conectionString/],
    [{ pool: {} }, /pool/],
  ])('rejects %j naming the field', (input, message) => {
    expect(() => resolveOptions(input as never)).toThrow(ValidationError)
    expect(() => resolveOptions(input as never)).toThrow(message)
  })
})
