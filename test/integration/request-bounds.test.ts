import { beforeAll, describe, expect, it } from 'vitest'
import { type Coordinator, ValidationError } from '../../src/index.js'
import { useTestSchema } from '../helpers/test-schema.js'

// What one request may carry, and what a request for nothing holds: nothing at all.
describe('request bounds', () => {
  const t = useTestSchema()
  let slots: Coordinator
  const warnings: string[] = []
  beforeAll(async () => {
    slots = t.coordinator({ onWarning: (message) => warnings.push(message) })
    await slots.limits.create('bounds:real', { slots: 1 })
  })

  const sqlError = async (text: string, values: unknown[]) => {
    try {
      await t.query(text, values)
    } catch (error) {
      return error as { code: string; message: string }
    }
    throw new Error('the call was accepted')
  }

  it('refuses more than 100 names and a holder over 4096 bytes, in the SQL API and in the library', async () => {
    const names = Array.from({ length: 101 }, (_, i) => `bounds:${i}`)
    const many = await sqlError(`SELECT * FROM acquire($1, 1, '30 seconds')`, [names])
    expect(many).toMatchObject({ code: 'PS400', message: 'names: at most 100 names per request, got 101' })
    const numbers = `[${Array.from({ length: 2_000_000 }, (_, i) => i).join(',')}]`
    const huge = await sqlError(`SELECT * FROM acquire('{bounds:real}', 1, '30 seconds', $1::jsonb)`, [numbers])
    expect(huge.code).toBe('PS400')
    expect(huge.message).toMatch(/^holder: at most 4096 bytes of JSON text, got \d+ bytes$/)

    await expect(slots.acquire(names)).rejects.toThrow(new ValidationError('names: at most 100 names per request, got 101'))
    await expect(slots.acquire('bounds:real', { holder: { note: 'x'.repeat(5000) } })).rejects.toThrow(
      /^holder: at most 4096 bytes of JSON text, got 5011 bytes$/,
    )
    await expect(slots.tryAcquire('bounds:real', { holder: 'y'.repeat(4095) })).rejects.toBeInstanceOf(ValidationError)
    // At the caps, both are accepted.
    const atCap = await slots.acquire([...names.slice(0, 99), 'bounds:real'], { holder: 'z'.repeat(4094) })
    expect([...atCap.names]).toEqual(['bounds:real'])
    await atCap.release()
    expect(await t.query('SELECT 1 FROM leases')).toEqual([])
  })

  it('a request whose names all do not exist holds nothing: no lease row, no token, one warning', async () => {
    warnings.length = 0
    const lease = await slots.acquire(['bounds:nope', 'bounds:nope2'], { ttlMs: 1000 })
    expect([...lease.names]).toEqual([])
    expect(lease.lost).toBe(false)
    expect(await t.query('SELECT 1 FROM leases')).toEqual([])
    expect(await slots.leases.list()).toEqual([])
    expect(await lease.release()).toBe(true)
    expect(await lease.release()).toBe(true)
    const ran = await slots.concurrency('bounds:nope', () => 'ran unguarded')
    expect(ran).toBe('ran unguarded')
    expect(await slots.tryAcquire('bounds:nope')).not.toBeNull()
    expect(warnings).toEqual([
      'limit not found, running unguarded for: bounds:nope, bounds:nope2 (the request option strict: true makes this an error)',
    ])
    // The SQL API answers the same: acquired, with no lease.
    const [row] = await t.query<{ status: string; lease_id: string | null; missing: string[] }>(
      `SELECT status, lease_id, missing FROM acquire('{bounds:nope}', 1, '30 seconds')`,
      [],
    )
    expect(row).toEqual({ status: 'acquired', lease_id: null, missing: ['bounds:nope'] })
    expect(await t.query('SELECT 1 FROM leases')).toEqual([])
  })

  it('an empty list of names runs unguarded, as in Prefect, without a warning', async () => {
    warnings.length = 0
    expect(await slots.concurrency([], () => 42)).toBe(42)
    await slots.rateLimit([])
    const lease = await slots.acquire([])
    expect([...lease.names]).toEqual([])
    expect(await lease.release()).toBe(true)
    expect(warnings).toEqual([])
    expect(await t.query('SELECT 1 FROM leases')).toEqual([])
  })
})
