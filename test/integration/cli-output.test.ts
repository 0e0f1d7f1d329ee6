import { spawn } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { cliPath, runCli } from '../helpers/cli.js'
import { useTestSchema } from '../helpers/test-schema.js'

// What the CLI prints: one JSON shape for a limit, frames fit for a pipe, tables fit for a terminal.
describe('pgslots CLI output (built, as real processes)', () => {
  const t = useTestSchema()
  const env = () => ({ DATABASE_URL: t.url, HOME: process.env.HOME })
  const run = (args: string[]) => runCli(['--schema', t.schema, ...args], env())

  beforeAll(async () => {
    const slots = t.coordinator()
    await slots.limits.create('gpu:*', { slots: 2 })
    await slots.limits.create('gpu:worker-1', { slots: 2 })
    // A slow decay: the bucket still reads 4.90 or more 100 s later, however busy the machine.
    await slots.limits.create('api:openai-embeddings', { slots: 5, slotDecayPerSecond: 0.001 })
    await slots.rateLimit('api:openai-embeddings', { occupy: 5 })
  })

  it('watch --json and limit ls --json give a limit the same shape', async () => {
    const listed = JSON.parse((await run(['limit', 'ls', '--json'])).stdout) as Array<Record<string, unknown>>
    const frame = JSON.parse((await run(['watch', '--once', '--json'])).stdout) as { limits: Array<Record<string, unknown>> }
    const keys = (rows: Array<Record<string, unknown>>) => rows.map((r) => Object.keys(r).sort())
    expect(keys(frame.limits)).toEqual(keys(listed))
    const gpu = frame.limits.find((l) => l.name === 'gpu:worker-1')!
    expect(gpu).toMatchObject({ slots: 2, activeSlots: 0, deniedSlots: 0, kind: 'limit', bucketLevel: null })
    expect(JSON.stringify(frame)).not.toMatch(/"[a-z]+_[a-z_]+":/)
    // What a change returns has the same keys too.
    for (const args of [['limit', 'create', 'gpu:shape', '--slots', '1'], ['limit', 'update', 'gpu:shape', '--slots', '2'], ['limit', 'disable', 'gpu:shape']]) {
      const changed = JSON.parse((await run([...args, '--json'])).stdout) as Record<string, unknown>
      expect(Object.keys(changed).sort(), args.join(' ')).toEqual(Object.keys(listed[0]!).sort())
    }
    await run(['limit', 'delete', 'gpu:shape'])
  })

  it('watch draws no clear-screen codes into a pipe, and no usage bar for a template', async () => {
    const child = spawn(process.execPath, [cliPath, '--schema', t.schema, 'watch', '--interval', '100'], { env: env() })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    for (let i = 0; i < 100 && (out.match(/^pgslots watch:/gm) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGTERM')
    await new Promise((r) => child.once('close', r))
    expect((out.match(/^pgslots watch:/gm) ?? []).length).toBeGreaterThanOrEqual(2)
    expect(out).not.toContain('\u001b')
    expect(out).toMatch(/^ {2}gpu:\* +template: creates limits of 2 slots$/m)
    expect(out).not.toMatch(/gpu:\*.*\[/)
    expect(out).toMatch(/gpu:worker-1 +\[\.+\] 0\/2 used, 0 waiting, 0 slots not granted at once/)
    // A rate limit shows its bucket: used up (it drains 1 slot per 100 s), and when it frees.
    expect(out).toMatch(/api:openai-embeddings +\[#+\] [45]\.\d\/5 budget used, next slot frees in \d+\.\ds/)
  })

  it('limit ls fits 100 columns and shows a rate limit’s bucket', async () => {
    const text = (await run(['limit', 'ls'])).stdout
    for (const line of text.trimEnd().split('\n')) expect(line.length, line).toBeLessThanOrEqual(100)
    expect(text).toMatch(/^name +state +slots +used +waiting +decay\/s +bucket +denied +avg held s +from$/m)
    expect(text).toMatch(/^api:openai-embeddings +active +5 +0 +0 +0\.001 +(4\.9\d|5\.00) /m)
    expect(text).toMatch(/^gpu:\* +template +2 /m)
    const inspect = JSON.parse((await run(['limit', 'inspect', 'api:openai-embeddings', '--json'])).stdout)
    expect(inspect.bucketLevel).toBeGreaterThan(4.5)
    expect(new Date(inspect.bucketFreesAt).getTime()).toBeGreaterThan(Date.now() - 5000)
  })

  it('run on a name a template covers says it created the limit, once', async () => {
    const first = await run(['run', 'gpu:nope', '--', 'true'])
    expect(first.code).toBe(0)
    expect(first.stderr).toBe('pgslots: warning: created gpu:nope from template gpu:*\n')
    const again = await run(['run', 'gpu:nope', '--', 'true'])
    expect(again).toMatchObject({ code: 0, stderr: '' })
  })
})
