import { beforeAll, describe, expect, it } from 'vitest'
import { type Coordinator, LimitNotFoundError, ValidationError } from '../../src/index.js'
import { runWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'

const t = useTestSchema()
let slots: Coordinator
beforeAll(() => {
  slots = t.coordinator()
})

describe('limit templates', () => {
  it('creates a covered limit once when 3 processes ask for it at the same moment, with the template slots', async () => {
    await slots.limits.create('tpl:*', { slots: 2 })
    const startAt = Date.now() + 1500
    const job = { url: t.url, schema: t.schema, action: 'try-acquire', names: ['tpl:worker-9'], count: 10, startAt }
    const results = await Promise.all([1, 2, 3].map(() => runWorker('slot-worker', job)))
    const granted = results.flat().flatMap((e) => (e as { granted: string[] }).granted)
    expect(granted).toHaveLength(2)
    const rows = await t.query<{ name: string; slots: number; template: string }>(
      `SELECT name, slots, template FROM limits WHERE name LIKE 'tpl:%' ORDER BY name`,
    )
    expect(rows).toEqual([
      { name: 'tpl:*', slots: 2, template: null },
      { name: 'tpl:worker-9', slots: 2, template: 'tpl:*' },
    ])
    const created = await t.query(`SELECT 1 FROM history WHERE kind = 'limit_changed' AND names = ARRAY['tpl:worker-9']`)
    expect(created).toHaveLength(1)
  }, 30_000)

  it('strict fails only for names no limit and no template covers', async () => {
    await slots.limits.create('strict:*', { slots: 1 })
    const lease = await slots.acquire('strict:w1', { strict: true })
    expect([...lease.names]).toEqual(['strict:w1'])
    await lease.release()
    await expect(slots.acquire('uncovered:w1', { strict: true })).rejects.toBeInstanceOf(LimitNotFoundError)
    await expect(slots.acquire(['strict:w2', 'uncovered:w1'], { strict: true })).rejects.toThrow(/uncovered:w1/)
  })

  it('the longest matching prefix wins', async () => {
    await slots.limits.create('gpu:*', { slots: 2 })
    await slots.limits.create('gpu:big-*', { slots: 8, slotDecayPerSecond: 0 })
    await (await slots.acquire('gpu:big-1')).release()
    await (await slots.acquire('gpu:small-1')).release()
    expect(await slots.limits.get('gpu:big-1')).toMatchObject({ slots: 8, template: 'gpu:big-*', kind: 'limit' })
    expect(await slots.limits.get('gpu:small-1')).toMatchObject({ slots: 2, template: 'gpu:*', kind: 'limit' })
    expect(await slots.limits.get('gpu:*')).toMatchObject({ kind: 'template', activeSlots: 0, template: null })
  })

  it('a template edit shapes the limits created afterwards; applyTemplate brings the older ones along', async () => {
    await slots.limits.create('edit:*', { slots: 1 })
    await (await slots.acquire('edit:old')).release()
    await slots.limits.update('edit:*', { slots: 3 })
    await (await slots.acquire('edit:new')).release()
    expect((await slots.limits.get('edit:old')).slots).toBe(1)
    expect((await slots.limits.get('edit:new')).slots).toBe(3)
    expect(await slots.limits.applyTemplate('edit:*')).toBe(2)
    expect((await slots.limits.get('edit:old')).slots).toBe(3)
  })

  it('refuses bad template names, duplicates, and requests for a template itself', async () => {
    for (const name of ['gp*u:x', '*', 'a*b*']) {
      await expect(slots.limits.create(name, { slots: 1 })).rejects.toThrow(ValidationError)
      await expect(slots.limits.create(name, { slots: 1 })).rejects.toThrow(/name/)
    }
    await slots.limits.create('dup:*', { slots: 1 })
    await expect(slots.limits.create('dup:*', { slots: 2 })).rejects.toThrow(ValidationError)
    await expect(slots.acquire('dup:*')).rejects.toThrow(/template, which holds no slots/)
    await expect(t.query(`SELECT * FROM acquire(ARRAY['dup:*'], 1, '1 minute')`)).rejects.toThrow(/is a template/)
    await expect(t.query(`SELECT * FROM put_limit('x*y', 1, true, 0, 'create')`)).rejects.toThrow(/may only end a template/)
  })
})
