import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { useTestSchema } from '../helpers/test-schema.js'


describe('pgslots CLI (built, as a real process)', () => {
  const t = useTestSchema({ migrate: false })
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(['--schema', t.schema, ...args], { ...process.env, DATABASE_URL: t.url, ...env })

  it('migrates, then reports the schema up to date', async () => {
    expect((await run(['migrate'])).stdout).toMatch(/applied 0001_baseline/)
    expect((await run(['migrate'])).stdout).toMatch(/up to date/)
  })

  it('manages limits with prefect-style flags and --json listings', async () => {
    expect((await run(['limit', 'create', 'gpu:gpu-1', '--limit', '2'])).code).toBe(0)
    expect((await run(['limit', 'create', 'api:x', '--slots', '5', '--slot-decay-per-second', '1.5', '--disable'])).code).toBe(0)
    const ls = await run(['--json', 'limit', 'ls'])
    expect(JSON.parse(ls.stdout).map((l: { name: string; active: boolean }) => [l.name, l.active])).toEqual([
      ['api:x', false],
      ['gpu:gpu-1', true],
    ])
    expect((await run(['limit', 'ls', '--prefix', 'gpu:'])).stdout).toMatch(/gpu:gpu-1\s+active\s+2\s+0\s+0\s/)
    expect(JSON.parse((await run(['--json', 'limit', 'update', 'gpu:gpu-1', '--slots', '3'])).stdout).slots).toBe(3)
    expect(JSON.parse((await run(['--json', 'limit', 'enable', 'api:x'])).stdout).active).toBe(true)
    expect(JSON.parse((await run(['--json', 'limit', 'disable', 'api:x'])).stdout).active).toBe(false)
    const inspect = JSON.parse((await run(['--json', 'limit', 'inspect', 'gpu:gpu-1'])).stdout)
    expect(inspect).toMatchObject({ name: 'gpu:gpu-1', slots: 3, holders: [] })
    expect((await run(['limit', 'delete', 'api:x'])).code).toBe(0)
    const missing = await run(['limit', 'inspect', 'api:x'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^pgslots: limit not found: api:x\n$/)
  })

  it('exits 2 with one clear line on bad input', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['limit', 'create', 'x', '--slots', 'two'], /expected an integer/],
      [['limit', 'create', 'x', '--slots', '-1'], /slots/],
      [['limit', 'create', '', '--slots', '1'], /name/],
      [['limit', 'frobnicate'], /unknown command/],
      [['run', 'gpu:gpu-1', '-n', '0', '--', 'true'], /occupy/],
      [['--schema', 'Bad"Schema', 'limit', 'ls'], /schema/],
      [['demo', '--speed', '0'], /speed/],
    ]
    for (const [args, message] of cases) {
      const result = await run(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(message)
    }
  })

  it('runs a command while holding slots, passing its exit code and fencing token', async () => {
    const ok = await run(['run', 'gpu:gpu-1', '-n', '2', '--', process.execPath, '-e', 'console.log("token=" + process.env.PGSLOTS_FENCING_TOKEN)'])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/token=\d+/)
    const failing = await run(['run', 'gpu:gpu-1', '--', process.execPath, '-e', 'process.exit(7)'])
    expect(failing.code).toBe(7)
    const [usage] = await t.query<{ used: number }>("SELECT used FROM limit_status WHERE name = 'gpu:gpu-1'")
    expect(usage?.used).toBe(0)
  })

  it('stops the command when its lease is lost mid-run', async () => {
    const running = run(['run', 'gpu:gpu-1', '--ttl', '1000', '--', process.execPath, '-e', 'setTimeout(() => {}, 60000)'])
    let token: string | undefined
    for (let i = 0; i < 100 && !token; i++) {
      await new Promise((r) => setTimeout(r, 100))
      token = (await t.query<{ t: string }>("SELECT fencing_token::text AS t FROM active_leases WHERE 'gpu:gpu-1' = ANY (names)"))[0]?.t
    }
    expect(token).toBeDefined()
    const revoke = await run(['lease', 'revoke', token as string])
    expect(revoke.stdout, revoke.stderr).toMatch(/revoked lease/)
    const result = await running
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/lease lost/)
  })

  it('lists and revokes leases, reaps, and prints a watch frame', async () => {
    const [held] = await t.query<{ fencing_token: string }>(
      `SELECT * FROM acquire(ARRAY['gpu:gpu-1'], 1, '30 seconds', '{"host":"cli-test"}')`,
    )
    const ls = JSON.parse((await run(['--json', 'lease', 'ls', '--limit', 'gpu:gpu-1'])).stdout)
    expect(ls).toEqual([expect.objectContaining({ fencingToken: held!.fencing_token, holder: { host: 'cli-test' } })])
    expect(JSON.stringify(ls)).not.toMatch(/lease_id|"id"/)
    const frame = await run(['watch', '--once'])
    expect(frame.stdout).toMatch(/gpu:gpu-1 .*1\/3 used/)
    expect(frame.stdout).toMatch(/cli-test/)
    expect((await run(['lease', 'revoke', held!.fencing_token])).code).toBe(0)
    const missing = await run(['lease', 'revoke', held!.fencing_token])
    expect(missing.code).toBe(1)
    const reap = JSON.parse((await run(['--json', 'reaper', 'run', '--once'])).stdout)
    expect(reap).toMatchObject({ expiredLeases: 0 })
    const cron = await run(['reaper', 'install-cron'])
    expect(cron.code).toBe(1) // this server has no pg_cron: one clear line
    expect(cron.stderr).toMatch(/^pgslots: .*pg_cron.*\n$/)
  })

  it('runs the demo in real processes, in a schema of its own, and shows the GPU limit held while downloads overlap', async () => {
    // No --schema: the demo must keep to pgslots_demo, away from the user's limits.
    // Speed 2: each download lasts 500 ms, longer than 20 new processes' first calls can
    // spread out on a busy 2-core machine (at speed 4, 250 ms, a loaded CI run saw one flow
    // start its download after another had finished).
    const demo = await runCli(['demo', '--speed', '2'], { ...process.env, DATABASE_URL: t.url })
    try {
      expect(demo.stderr).toBe('')
      expect(demo.code).toBe(0)
      expect(demo.stdout).toMatch(/^using schema pgslots_demo in /)
      for (const worker of ['gpu-1', 'gpu-2']) {
        expect(demo.stdout).toMatch(
          new RegExp(`${worker}: max 2 concurrent on GPU \\(limit 2\\), 10/10 flows done, downloads overlapped: 10, 10 flow processes`),
        )
      }
      expect(demo.stdout).toMatch(/from the history table:\n/)
      expect(demo.stdout).toMatch(/flow\s+\d+ \|d+\.*G+s+ *\|/)
      const progress = demo.stdout.split('\n').filter((line) => line.startsWith('t='))
      expect(progress[0]).toMatch(/starting 2 worker and 20 flow processes…$/)
      // The last progress line is the final state.
      expect(progress.at(-1)).toMatch(/gpu-1: 0 downloading, 0 waiting, 0 on GPU, 0 saving, 10 done \| gpu-2: .*, 10 done$/)
      expect(demo.stdout).toMatch(/downloads hold no GPU slot/)
      // Its schema went with it (--keep keeps it).
      expect(demo.stdout).toMatch(/\ndropped schema pgslots_demo \(--keep keeps it\)\n$/)
      expect(await t.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'pgslots_demo'`)).toEqual([])
    } finally {
      await t.sql.query('DROP SCHEMA IF EXISTS pgslots_demo CASCADE')
    }
  }, 90_000)

  it('takes the global options after the subcommand too, and prints its version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    expect((await run(['--version'])).stdout).toBe(`${version}\n`)
    // No DATABASE_URL: the URL comes from the option after the subcommand.
    const listed = await run(['limit', 'ls', '--json', '--database-url', t.url], { DATABASE_URL: '' })
    expect(listed.code).toBe(0)
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((l) => l.name)).toContain('gpu:gpu-1')
    // The subcommand's own value wins over the one given before it.
    const elsewhere = await run(['limit', 'ls', '--schema', 'no_such_schema'])
    expect(elsewhere.code).toBe(1)
    expect((await run(['limit', 'ls', '--help'])).stdout).toMatch(/--database-url <url>[\s\S]*--schema <name>[\s\S]*--json/)
    // Everything after `--` still goes to the command untouched.
    const passed = await run(['run', 'gpu:gpu-1', '--json', '--', 'echo', '--json', '--schema', 'x'])
    expect(passed.code).toBe(0)
    expect(passed.stdout).toContain('--json --schema x')
  }, 60_000)
})
