import { beforeAll, describe, expect, it } from 'vitest'
import { Coordinator, type Coordinator as CoordinatorType, ValidationError } from '../../src/index.js'
import { useTestSchema } from '../helpers/test-schema.js'

describe('hostile input', () => {
  const t = useTestSchema()
  let slots: CoordinatorType
  beforeAll(() => {
    slots = t.coordinator()
  })

  it.each([
    ["it's"],
    ['a;b'],
    ['"; DROP TABLE limits; --'],
    ["Robert'); DROP TABLE leases;--"],
    ['gpu:δ/🚀/日本'],
    ['%_\\'],
    ['$1 $$ $body$'],
    ['🚀'.repeat(200)],
  ])('treats the name %j as plain data', async (name) => {
    const info = await slots.limits.create(name, { slots: 1 })
    expect(info.name).toBe(name)
    const lease = await slots.acquire(name, { holder: { note: name } })
    expect([...lease.names]).toEqual([name])
    const [listed] = await slots.leases.list({ limit: name })
    expect(listed?.holder).toEqual({ note: name })
    await lease.release()
    expect((await slots.limits.list({ prefix: name })).map((l) => l.name)).toContain(name)
    await slots.limits.delete(name)
    const tables = await t.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
      [t.schema],
    )
    expect(tables[0]?.n).toBeGreaterThanOrEqual(8)
  })

  it.each([
    ['a 10 kB name', 'x'.repeat(10_000)],
    ['201 characters', 'y'.repeat(201)],
    ['a NUL byte', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['an escape character', 'a\u001bb'],
    ['a C1 control', 'a\u0085b'],
    ['an empty name', ''],
  ])('rejects %s with a ValidationError before touching the database', async (_label, name) => {
    await expect(slots.limits.create(name, { slots: 1 })).rejects.toBeInstanceOf(ValidationError)
    await expect(slots.acquire(name)).rejects.toBeInstanceOf(ValidationError)
    await expect(slots.leases.list({ limit: name })).rejects.toBeInstanceOf(ValidationError)
  })

  it('rejects an oversized holder', async () => {
    await slots.limits.create('holder-size', { slots: 1 })
    await expect(slots.acquire('holder-size', { holder: { blob: 'z'.repeat(20_000) } })).rejects.toBeInstanceOf(
      ValidationError,
    )
  })

  it.each([['public; DROP SCHEMA x'], ['Robert"'], ['pg_catalog"."x'], ['ünïcode'], ['a'.repeat(60)]])(
    'rejects the schema option %j',
    (schema) => {
      expect(() => new Coordinator({ connectionString: t.url, schema })).toThrow(ValidationError)
    },
  )
})
