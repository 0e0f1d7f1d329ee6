import { spawn } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { cliPath, runCli } from '../helpers/cli.js'
import { useTestSchema } from '../helpers/test-schema.js'

// What a user meets first: usage errors, connection errors, pipes, roles, small outputs.
describe('pgslots CLI behaviour (built, as real processes)', () => {
  const t = useTestSchema()
  const env = () => ({ DATABASE_URL: t.url, HOME: process.env.HOME })
  const run = (args: string[], extra: Record<string, string> = {}) => runCli(['--schema', t.schema, ...args], { ...env(), ...extra })

  beforeAll(async () => {
    await t.coordinator().limits.create('cli:gpu', { slots: 2 })
  })

  it('exits 2 with one prefixed line for usage errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['metrics', '--port', '99999'], /port from 0 to 65535/],
      [['limit', 'create', 'x', '--slots', '2', '--limit', '3'], /--limit.*cannot be used with.*--slots/],
      [['limit', 'update', 'cli:gpu', '--enable', '--disable'], /--enable.*cannot be used with.*--disable/],
      [['limit', 'update', 'cli:gpu'], /needs something to change/],
      [['limit', 'create', 'x'], /needs --slots/],
      [['limit', 'ls', '--bogus'], /unknown option/],
    ]
    for (const [args, message] of cases) {
      const result = await run(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(/^pgslots: [^\n]+\n$/)
      expect(result.stderr, args.join(' ')).toMatch(message)
    }
  })

  it('says what was tried and how to fix it when it cannot connect', async () => {
    const none = await runCli(['limit', 'ls'], { HOME: process.env.HOME })
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/^pgslots: no database configured: pass --database-url .*DATABASE_URL.*PGHOST/)
    const garbled = await runCli(['limit', 'ls', '--database-url', 'not a url'], {})
    expect(garbled.code).toBe(2)
    expect(garbled.stderr).toMatch(/^pgslots: --database-url is not a URL; expected postgres:\/\//)
    const down = await runCli(['limit', 'ls'], { DATABASE_URL: 'postgres://someone:pw@127.0.0.1:1/db' })
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/^pgslots: cannot reach PostgreSQL at 127\.0\.0\.1:1\/db \(from DATABASE_URL\)/)
    expect(down.stderr).not.toMatch(/pw/)
    const unmigrated = await runCli(['limit', 'ls', '--schema', 'no_such_schema'], env())
    expect(unmigrated.code).toBe(1)
    expect(unmigrated.stderr).toMatch(/schema "no_such_schema" is not installed .*run `pgslots migrate`/)
  })

  it('prints no stack trace when its output is piped into head', async () => {
    await t.query(`INSERT INTO limits (name, slots) SELECT 'pipe:' || i, 1 FROM generate_series(1, 3000) AS i`)
    const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const child = spawn('bash', ['-c', `"${process.execPath}" "${cliPath}" limit ls --schema ${t.schema} | head -n 2`], {
        env: { ...process.env, DATABASE_URL: t.url },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c) => (stdout += c))
      child.stderr.on('data', (c) => (stderr += c))
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(2)
    expect(result.stderr).toBe('')
    await t.query(`DELETE FROM limits WHERE name LIKE 'pipe:%'`)
  })

  it('revoking an unknown token is an error on stderr', async () => {
    const result = await run(['lease', 'revoke', '987654321'])
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'pgslots: no live lease with fencing token 987654321\n' })
  })

  it('run: a missing limit fails unless --allow-missing, and names are trimmed', async () => {
    const echo = [process.execPath, '-e', 'console.log("ran")']
    const typo = await run(['run', 'cli:gpuu', '--', ...echo])
    expect(typo.code).toBe(1)
    expect(typo.stderr).toMatch(/^pgslots: limit not found: cli:gpuu\n$/)
    expect(typo.stdout).toBe('')
    const allowed = await run(['run', '--allow-missing', 'cli:gpuu', '--', ...echo])
    expect(allowed.code).toBe(0)
    expect(allowed.stdout).toBe('ran\n')
    expect(allowed.stderr).toMatch(/running unguarded for: cli:gpuu \(--allow-missing was given\)/)
    const spaced = await run(['run', ' cli:gpu , cli:gpu2 '.split(',')[0]!, '--', ...echo])
    expect(spaced.code).toBe(0)
    const [last] = await t.query<{ names: string[] }>(`SELECT names FROM history WHERE kind = 'released' ORDER BY ended_at DESC LIMIT 1`)
    expect(last?.names).toEqual(['cli:gpu'])
  })

  it('limit delete says so, and refuses a limit with live leases unless --force', async () => {
    await t.coordinator().limits.create('cli:held', { slots: 1 })
    const lease = await t.coordinator().acquire('cli:held')
    const refused = await run(['limit', 'delete', 'cli:held'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^pgslots: limit cli:held has 1 live lease\(s\); pass --force/)
    const forced = await run(['limit', 'delete', 'cli:held', '--force'])
    expect(forced).toMatchObject({ code: 0, stdout: 'deleted limit cli:held\n' })
    await lease.release()
  })

  it('limit inspect shows holders and waiters readably', async () => {
    const holder = t.coordinator({ holder: { host: 'inspect-host', pid: 1 } })
    const held = [await holder.acquire('cli:gpu'), await holder.acquire('cli:gpu')]
    const queued = holder.acquire('cli:gpu', { holder: 'queued-one' })
    for (let i = 0; i < 100 && (await t.query(`SELECT 1 FROM waiters`)).length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    const text = await run(['limit', 'inspect', 'cli:gpu'])
    expect(text.stdout).not.toMatch(/\[object Object\]/)
    expect(text.stdout).toMatch(/holders \(2\)/)
    expect(text.stdout).toMatch(/inspect-host/)
    expect(text.stdout).toMatch(/waiters \(1, in order\)\n.*\n\d+\s+0\s+1\s+queued-one/)
    const json = JSON.parse((await run(['limit', 'inspect', 'cli:gpu', '--json'])).stdout)
    expect(json).toMatchObject({ name: 'cli:gpu', activeSlots: 2, waiting: 1 })
    expect(typeof json.holders[0].fencingToken).toBe('string')
    expect(json.waiters).toEqual([expect.objectContaining({ holder: 'queued-one', occupy: 1 })])
    for (const lease of held) await lease.release()
    await (await queued).release()
  })

  it('a reader role (views only) lists limits and leases and watches', async () => {
    const role = await t.loginRole('reader')
    await t.coordinator().grant({ reader: role.name })
    const asReader = (args: string[]) => runCli(['--schema', t.schema, ...args], { DATABASE_URL: role.url })
    for (const args of [['limit', 'ls'], ['lease', 'ls'], ['watch', '--once'], ['limit', 'inspect', 'cli:gpu']]) {
      const result = await asReader(args)
      expect(result.stderr, args.join(' ')).toBe('')
      expect(result.code, args.join(' ')).toBe(0)
    }
    const write = await asReader(['limit', 'create', 'cli:nope', '--slots', '1'])
    expect(write.code).toBe(1)
    expect(write.stderr).toMatch(/permission denied.*pgslots grant/)
  })

  it('small ones: the watch header, metrics on port 0, a quiet reaper loop', async () => {
    const frame = await run(['watch', '--once'])
    expect(frame.stdout.split('\n')[0]).toMatch(new RegExp(`^pgslots watch: schema ${t.schema}, \\d{4}-`))
    expect(frame.stdout).toMatch(/\d+ slots? not granted at once/)
    const metrics = spawn(process.execPath, [cliPath, 'metrics', '--port', '0', '--schema', t.schema], { env: env() })
    const line = await new Promise<string>((resolve) => metrics.stdout.once('data', (c) => resolve(String(c))))
    expect(line).toMatch(/^serving metrics on http:\/\/127\.0\.0\.1:(?!0\/)\d+\/metrics\n$/)
    const port = /:(\d+)\/metrics/.exec(line)![1]
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200)
    metrics.kill('SIGTERM')
    const reaper = spawn(process.execPath, [cliPath, 'reaper', 'run', '--interval', '100', '--schema', t.schema], { env: env() })
    let out = ''
    reaper.stdout.on('data', (c) => (out += c))
    // Passes run every 100 ms: over 1.5 s a dozen of them find nothing, and say nothing.
    await new Promise((r) => setTimeout(r, 1500))
    reaper.kill('SIGTERM')
    await new Promise((r) => reaper.once('close', r))
    expect(out).toBe('')
  })
})
