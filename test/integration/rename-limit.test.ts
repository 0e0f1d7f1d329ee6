import { describe, expect, it } from 'vitest'
import { LimitExistsError, LimitNotFoundError, ValidationError } from '../../src/index.js'
import { runCli } from '../helpers/cli.js'
import { useTestSchema } from '../helpers/test-schema.js'

// Renaming a limit is refused while any lease or waiter names it (they carry the old name).
describe('renaming a limit (limits.update(name, { name }), limit update --name)', () => {
  const t = useTestSchema()

  it('renames an idle limit, keeps its settings, and refuses a taken name', async () => {
    const slots = t.coordinator()
    await slots.limits.create('ren:a', { slots: 3 })
    await slots.limits.create('ren:taken', { slots: 1 })
    const renamed = await slots.limits.update('ren:a', { name: 'ren:b', slots: 4 })
    expect(renamed).toMatchObject({ name: 'ren:b', slots: 4 })
    await expect(slots.limits.get('ren:a')).rejects.toBeInstanceOf(LimitNotFoundError)
    await expect(slots.limits.update('ren:b', { name: 'ren:taken' })).rejects.toBeInstanceOf(LimitExistsError)
    await expect(slots.limits.update('ren:nope', { name: 'ren:c' })).rejects.toBeInstanceOf(LimitNotFoundError)
    await expect(slots.limits.update('ren:b', { name: 'ren:*' })).rejects.toBeInstanceOf(ValidationError)
    await expect(slots.limits.update('ren:b', { nmae: 'x' } as never)).rejects.toThrow(/settings\.nmae: unknown option/)
    await (await slots.acquire('ren:b', { strict: true })).release()
  })

  it('refuses while a lease holds it or a waiter waits for it, and then renames', async () => {
    const slots = t.coordinator()
    await slots.limits.create('ren:busy', { slots: 1 })
    const lease = await slots.acquire('ren:busy')
    const waiter = slots.acquire('ren:busy', { timeoutMs: 30_000 })
    for (let i = 0; i < 100 && (await t.query('SELECT 1 FROM waiters')).length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    await expect(slots.limits.update('ren:busy', { name: 'ren:idle' })).rejects.toThrow(
      /limit ren:busy has 1 live lease\(s\) and 1 waiter\(s\); rename it when nobody holds or waits for it/,
    )
    await lease.release()
    await expect(slots.limits.update('ren:busy', { name: 'ren:idle' })).rejects.toThrow(/has 1 live lease\(s\) and 0 waiter\(s\)/) // handed to the waiter
    await (await waiter).release()
    expect((await slots.limits.update('ren:busy', { name: 'ren:idle' })).name).toBe('ren:idle')
  })

  it('a renamed template keeps creating limits, and its limits follow it', async () => {
    const slots = t.coordinator()
    await slots.limits.create('old:*', { slots: 2 })
    await (await slots.acquire('old:x')).release()
    await slots.limits.update('old:*', { name: 'new:*' })
    expect((await slots.limits.get('old:x')).template).toBe('new:*')
    await (await slots.acquire('new:y', { strict: true })).release()
    expect((await slots.limits.get('new:y')).template).toBe('new:*')
  })

  it('limit update --name renames from the command line; a busy limit is one clear line', async () => {
    const run = (args: string[]) => runCli(['--schema', t.schema, ...args], { DATABASE_URL: t.url })
    await t.coordinator().limits.create('ren:cli', { slots: 1 })
    const done = await run(['limit', 'update', 'ren:cli', '--name', 'ren:cli2', '--json'])
    expect(done.code, done.stderr).toBe(0)
    expect(JSON.parse(done.stdout)).toMatchObject({ name: 'ren:cli2', slots: 1 })
    const lease = await t.coordinator().acquire('ren:cli2')
    const busy = await run(['limit', 'update', 'ren:cli2', '--name', 'ren:cli3'])
    expect(busy).toMatchObject({ code: 1, stdout: '' })
    expect(busy.stderr).toMatch(/^pgslots: limit ren:cli2 has 1 live lease\(s\) and 0 waiter\(s\); rename it when nobody holds or waits for it\n$/)
    await lease.release()
  })

  it('enable on an enabled limit and disable on a disabled one change nothing and exit 0', async () => {
    const run = (args: string[]) => runCli(['--schema', t.schema, ...args], { DATABASE_URL: t.url })
    await t.coordinator().limits.create('ren:on', { slots: 1 })
    for (const verb of ['enable', 'enable', 'disable', 'disable']) {
      const result = await run(['limit', verb, 'ren:on', '--json'])
      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout).active).toBe(verb === 'enable')
    }
    expect((await run(['limit', 'enable', '--help'])).stdout).toMatch(/already active: no change, exit 0/)
  })
})
