import { beforeAll, describe, expect, it } from 'vitest'
import { type Coordinator, LimitExistsError, LimitNotFoundError, ValidationError } from '../../src/index.js'
import { useTestSchema } from '../helpers/test-schema.js'

describe('limits admin', () => {
  const t = useTestSchema()
  let slots: Coordinator
  const warnings: string[] = []
  beforeAll(() => {
    slots = t.coordinator({ onWarning: (m) => warnings.push(m) })
  })

  it('creates, gets, lists by prefix, updates and deletes', async () => {
    const created = await slots.limits.create('gpu:gpu-1', { slots: 2 })
    expect(created).toMatchObject({ name: 'gpu:gpu-1', slots: 2, active: true, slotDecayPerSecond: 0, activeSlots: 0 })
    expect(created.createdAt).toBeInstanceOf(Date)
    await slots.limits.create('gpu:gpu-2', { slots: 1, active: false })
    await slots.limits.create('license/x', { slots: 5, slotDecayPerSecond: 0.5 })
    expect((await slots.limits.get('gpu:gpu-2')).active).toBe(false)
    expect((await slots.limits.list({ prefix: 'gpu:' })).map((l) => l.name)).toEqual(['gpu:gpu-1', 'gpu:gpu-2'])
    expect((await slots.limits.list()).map((l) => l.name)).toEqual(['gpu:gpu-1', 'gpu:gpu-2', 'license/x'])
    expect((await slots.limits.update('gpu:gpu-1', { slots: 3 })).slots).toBe(3)
    expect((await slots.limits.enable('gpu:gpu-2')).active).toBe(true)
    expect((await slots.limits.disable('gpu:gpu-2')).active).toBe(false)
    expect((await slots.limits.delete('license/x')).name).toBe('license/x')
    await expect(slots.limits.get('license/x')).rejects.toBeInstanceOf(LimitNotFoundError)
  })

  it('records every limit change in the events, with slots and active after it', async () => {
    await slots.limits.create('audited', { slots: 2 })
    await slots.limits.update('audited', { slots: 5 })
    await slots.limits.update('audited', { slots: 5 }) // no change: no event
    await slots.limits.disable('audited')
    const lease = await slots.acquire('audited') // counters move: no limit event
    await lease.release()
    await slots.limits.delete('audited')
    const rows = await t.query<{ kind: string; slots: number; active: boolean }>(
      `SELECT kind, slots, active FROM events WHERE names = ARRAY['audited'] AND kind LIKE 'limit%' ORDER BY at`,
    )
    expect(rows).toEqual([
      { kind: 'limit_changed', slots: 2, active: true },
      { kind: 'limit_changed', slots: 5, active: true },
      { kind: 'limit_changed', slots: 5, active: false },
      { kind: 'limit_deleted', slots: 5, active: false },
    ])
  })

  it('treats LIKE wildcards in a prefix as plain characters', async () => {
    await slots.limits.create('pct_%:a', { slots: 1 })
    await slots.limits.create('pctX:b', { slots: 1 })
    expect((await slots.limits.list({ prefix: 'pct_%' })).map((l) => l.name)).toEqual(['pct_%:a'])
  })

  it('upserts: creates once, then changes only what is given', async () => {
    expect((await slots.limits.upsert('up', { slots: 1 })).slots).toBe(1)
    const updated = await slots.limits.upsert('up', { slots: 4, slotDecayPerSecond: 2 })
    expect(updated).toMatchObject({ slots: 4, slotDecayPerSecond: 2, active: true })
  })

  it('rejects a duplicate with LimitExistsError and a missing one with LimitNotFoundError', async () => {
    await slots.limits.create('dup', { slots: 1 })
    await expect(slots.limits.create('dup', { slots: 1 })).rejects.toBeInstanceOf(LimitExistsError)
    await expect(slots.limits.update('missing', { slots: 1 })).rejects.toBeInstanceOf(LimitNotFoundError)
    await expect(slots.limits.delete('missing')).rejects.toBeInstanceOf(LimitNotFoundError)
    await expect(slots.limits.enable('missing')).rejects.toBeInstanceOf(LimitNotFoundError)
    await expect(slots.limits.get('missing')).rejects.toBeInstanceOf(LimitNotFoundError)
  })

  it.each([
    ['empty name', () => slots.limits.create('', { slots: 1 }), /name/],
    ['long name', () => slots.limits.create('x'.repeat(201), { slots: 1 }), /name/],
    ['control character', () => slots.limits.create('a\nb', { slots: 1 }), /name/],
    ['NUL byte', () => slots.limits.create('a\u0000b', { slots: 1 }), /name/],
    ['negative slots', () => slots.limits.create('v1', { slots: -1 }), /slots.*-1/],
    ['fractional slots', () => slots.limits.create('v2', { slots: 1.5 }), /slots.*1\.5/],
    ['NaN slots', () => slots.limits.create('v3', { slots: Number.NaN }), /slots/],
    ['missing slots', () => slots.limits.create('v4', {} as never), /slots/],
    ['string slots', () => slots.limits.create('v5', { slots: '2' as never }), /slots.*"2"/],
    ['negative decay', () => slots.limits.create('v6', { slots: 1, slotDecayPerSecond: -1 }), /slotDecayPerSecond/],
    ['infinite decay', () => slots.limits.create('v7', { slots: 1, slotDecayPerSecond: Infinity }), /slotDecayPerSecond/],
    ['unknown option', () => slots.limits.create('v8', { slots: 1, slot: 2 } as never), /settings\.slot/],
    ['bad active', () => slots.limits.update('dup', { active: 'yes' as never }), /active/],
    ['bad prefix', () => slots.limits.list({ prefix: 3 as never }), /prefix/],
  ])('rejects %s with a ValidationError naming the field', async (_label, call, message) => {
    const error = await call().then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).code).toBe('PGSLOTS_VALIDATION')
    expect((error as Error).message).toMatch(message)
  })

  it('rejects bad input in the SQL API too (any client language)', async () => {
    await expect(t.query("SELECT * FROM put_limit('', 1, NULL, NULL, 'create')")).rejects.toMatchObject({ code: 'PS400' })
    await expect(t.query("SELECT * FROM put_limit('ok', -3, NULL, NULL, 'create')")).rejects.toMatchObject({
      code: 'PS400',
      message: expect.stringMatching(/slots/),
    })
    await expect(t.query("SELECT * FROM put_limit('ok', 1, NULL, 'NaN', 'create')")).rejects.toMatchObject({ code: 'PS400' })
  })

  it('allows lowering slots below usage, reports it, and keeps counters exact', async () => {
    await slots.limits.create('shrink', { slots: 3 })
    const leases = await Promise.all([1, 2, 3].map(() => slots.acquire('shrink')))
    warnings.length = 0
    const lowered = await slots.limits.update('shrink', { slots: 1 })
    expect(lowered).toMatchObject({ slots: 1, activeSlots: 3 })
    expect(warnings.join()).toMatch(/shrink has 3 slots in use/)
    expect(await slots.tryAcquire('shrink')).toBeNull()
    await leases[0]?.release()
    await leases[1]?.release()
    expect((await slots.limits.get('shrink')).activeSlots).toBe(1)
    expect(await slots.tryAcquire('shrink')).toBeNull()
    await leases[2]?.release()
    const lease = await slots.tryAcquire('shrink')
    expect(lease).not.toBeNull()
    expect((await slots.limits.get('shrink')).activeSlots).toBe(1)
    await lease?.release()
  })
})
