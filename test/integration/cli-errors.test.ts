import { spawn } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { cliPath, runCli } from '../helpers/cli.js'
import { useTestSchema } from '../helpers/test-schema.js'

// What the CLI says when something is wrong: in the user's terms (flags, arguments, grants), once.
describe('pgslots CLI errors (built, as real processes)', () => {
  const t = useTestSchema()
  const env = () => ({ DATABASE_URL: t.url, HOME: process.env.HOME })
  const run = (args: string[]) => runCli(['--schema', t.schema, ...args], env())

  beforeAll(async () => {
    await t.coordinator().limits.create('err:gpu', { slots: 1 })
  })

  /** A new role given the pgslots grant `kind` by the CLI: its name and a URL that logs in as it. */
  async function roleWith(kind: 'worker' | 'reader', suffix: string): Promise<{ name: string; url: string }> {
    const role = await t.loginRole(suffix)
    const granted = await runCli(['grant', `--${kind}`, role.name, '--schema', t.schema, '--database-url', t.url, '--json'], {})
    expect(granted, granted.stderr).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(granted.stdout)).toEqual({ [kind]: role.name })
    return role
  }

  it('grant takes --database-url, --schema and --json after the subcommand, like every command', async () => {
    const role = (await roleWith('worker', 'w')).name
    const [row] = await t.query<{ ok: boolean }>(`SELECT has_function_privilege($1, 'acquire(text[],integer,interval,jsonb,boolean,boolean,interval,integer,uuid,integer)', 'EXECUTE') AS ok`, [role])
    expect(row?.ok).toBe(true)
  })

  it('a role without the grant a command needs is told which one, or that only the owner can', async () => {
    const asWorker = (await roleWith('worker', 'w2')).url
    const ls = await runCli(['lease', 'ls', '--schema', t.schema], { DATABASE_URL: asWorker })
    expect(ls.code).toBe(1)
    expect(ls.stderr).toMatch(/^pgslots: permission denied.*`pgslots lease ls` needs the reader grant: .*pgslots grant --reader ROLE/)
    expect(ls.stderr).not.toMatch(/has no pgslots grant/)
    const migrate = await runCli(['migrate', '--schema', t.schema], { DATABASE_URL: asWorker })
    expect(migrate.code).toBe(1)
    expect(migrate.stderr).toMatch(/`pgslots migrate` must run as the owner of the pgslots schema/)
    expect(migrate.stderr).not.toMatch(/see `pgslots grant`/)
  })

  it('exits 130 on SIGINT and 143 on SIGTERM while run waits for slots', async () => {
    const holder = await t.coordinator().acquire('err:gpu')
    try {
      for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
        const child = spawn(process.execPath, [cliPath, '--schema', t.schema, 'run', 'err:gpu', '--', 'true'], { env: env() })
        let stderr = ''
        child.stderr.on('data', (c) => (stderr += c))
        for (let i = 0; i < 200 && (await t.query(`SELECT 1 FROM waiters`)).length === 0; i++) await new Promise((r) => setTimeout(r, 25))
        child.kill(signal)
        const exit = await new Promise<number | null>((resolve) => child.once('close', resolve))
        expect(exit, stderr).toBe(code)
        expect(stderr).toBe(`pgslots: interrupted by ${signal} while waiting for slots\n`)
      }
      expect(await t.query(`SELECT 1 FROM waiters`)).toEqual([])
    } finally {
      await holder.release()
    }
  })

  it('a fencing token out of range is a usage error naming the argument', async () => {
    const result = await run(['lease', 'revoke', '99999999999999999999999'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toMatch(/^pgslots: <fencingToken>: must be an integer from 1 to 9223372036854775807, got "9+"\n$/)
    expect((await run(['lease', 'revoke', 'x'])).stderr).toMatch(/^pgslots: <fencingToken>: must be an integer/)
  })

  it('names the flags the user typed, not the library fields', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', 'err:gpu', '--ttl', '5', '--', 'true'], /^pgslots: --ttl: must be an integer between 100 and/],
      [['run', 'err:gpu', '--timeout', '-1', '--', 'true'], /^pgslots: --timeout: must be an integer/],
      [['run', 'err:gpu', '-n', '0', '--', 'true'], /^pgslots: -n\/--occupy: must be an integer/],
      [['run', 'err:gpu', '--priority', '5000', '--', 'true'], /^pgslots: --priority: must be an integer/],
      [['limit', 'create', 'err:x', '--slots', '1', '--slot-decay-per-second', '-1'], /^pgslots: --slot-decay-per-second: must be/],
    ]
    for (const [args, message] of cases) {
      const result = await run(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(message)
      expect(result.stderr, args.join(' ')).not.toMatch(/ttlMs|timeoutMs|: occupy:|slotDecayPerSecond/)
    }
  })

  it('prints its prefix once, for library errors that carry one too', async () => {
    const cron = await run(['reaper', 'install-cron'])
    expect(cron.code).toBe(1)
    expect(cron.stderr).toMatch(/^pgslots: [^\n]*pg_cron/)
    expect(cron.stderr).not.toMatch(/pgslots: pgslots:/)
  })

  it('run on a limit with 0 slots says it is paused', async () => {
    await t.coordinator().limits.create('err:paused', { slots: 0 })
    const result = await run(['run', 'err:paused', '--', 'true'])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'pgslots: limit err:paused is paused (slots 0): nothing is granted until an admin raises it with `pgslots limit update err:paused --slots N`\n',
    )
  })
})
