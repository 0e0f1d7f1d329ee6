import { beforeAll, describe, expect, it } from 'vitest'
import { type Coordinator, ValidationError } from '../../src/index.js'
import { rules } from '../../src/sql/rules.js'
import { useTestSchema } from '../helpers/test-schema.js'

// Each value rule is stated once (src/sql/rules.ts): the library and the SQL functions draw
// the same line, in the same words, and the table's domain holds stored names to it too.
describe('the value rules, on both sides of the wire', () => {
  const t = useTestSchema()
  let slots: Coordinator
  beforeAll(async () => {
    slots = t.coordinator()
    await slots.limits.create('rules:x', { slots: 1 })
  })

  const sqlError = (text: string, values: unknown[] = []) =>
    t.query(text, values).then(
      () => null,
      (error: unknown) => error as { code: string; message: string },
    )
  const libraryError = (call: () => Promise<unknown>) =>
    call().then(
      () => null,
      (error: unknown) => error,
    )

  it('a name of the longest size is a limit in the library, the SQL API and the table; one more character is not', async () => {
    const longest = '🚀'.repeat(rules.name.maxChars)
    const tooLong = `${longest}x`
    expect((await slots.limits.create(longest, { slots: 1 })).name).toBe(longest)
    await t.query(`INSERT INTO limits (name, slots) VALUES ($1, 1)`, [`${'y'.repeat(rules.name.maxChars - 1)}z`])

    const library = await libraryError(() => slots.limits.create(tooLong, { slots: 1 }))
    expect(library).toBeInstanceOf(ValidationError)
    expect((library as Error).message).toContain(`name: ${rules.name.size}, got`)
    expect(await sqlError(`SELECT * FROM put_limit($1, 1, NULL, NULL, 'create')`, [tooLong])).toMatchObject({
      code: 'PS400',
      message: expect.stringContaining(`name: ${rules.name.size}, got`),
    })
    expect(await sqlError(`INSERT INTO limits (name, slots) VALUES ($1, 1)`, [tooLong])).toMatchObject({ code: '23514' })
  })

  it('priorities, durations and the number of names end at the same values, refused in the same words', async () => {
    const { min, max } = rules.priority
    for (const priority of [min, max]) {
      await (await slots.acquire('rules:x', { priority })).release()
      await t.query(`SELECT release(lease_id) FROM acquire('{rules:x}', 1, '1 minute', p_priority => $1)`, [priority])
    }
    expect(await libraryError(() => slots.acquire('rules:x', { priority: max + 1 }))).toMatchObject({
      message: `priority: ${rules.priority.range}, got ${max + 1}`,
    })
    expect(await sqlError(`SELECT * FROM acquire('{rules:x}', 1, '1 minute', p_priority => $1)`, [min - 1])).toMatchObject({
      code: 'PS400',
      message: `priority: ${rules.priority.range}, got ${min - 1}`,
    })

    const { minMs, maxMs } = rules.duration
    for (const ms of [minMs, maxMs]) {
      await (await slots.acquire('rules:x', { ttlMs: ms })).release()
      await t.query(`SELECT release(lease_id) FROM acquire('{rules:x}', 1, $1::interval)`, [`${ms} milliseconds`])
    }
    expect(await libraryError(() => slots.acquire('rules:x', { ttlMs: maxMs + 1 }))).toBeInstanceOf(ValidationError)
    expect(await sqlError(`SELECT * FROM acquire('{rules:x}', 1, $1::interval)`, [`${maxMs + 1} milliseconds`])).toMatchObject({
      code: 'PS400',
      message: expect.stringContaining(`ttl: ${rules.duration.range}, got`),
    })

    const names = Array.from({ length: rules.names.max + 1 }, (_, i) => `rules:${i}`)
    await (await slots.acquire(names.slice(1))).release()
    const message = `names: ${rules.names.tooMany}, got ${names.length}`
    expect(await libraryError(() => slots.acquire(names))).toMatchObject({ message })
    expect(await sqlError(`SELECT * FROM acquire($1, 1, '1 minute')`, [names])).toMatchObject({ code: 'PS400', message })
  })
})
