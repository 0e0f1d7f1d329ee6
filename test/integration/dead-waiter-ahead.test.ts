import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Coordinator } from '../../src/index.js'
import { cliPath, runCli } from '../helpers/cli.js'
import { startWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// A crashed holder's slots come back at its ttl with no reaper anywhere, even when the
// waiter first in line crashed too: the first *live* waiter is responsible for the expiry.
/** The PIDs of a process's children (Linux). */
function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
  return text.split(' ').filter(Boolean).map(Number)
}

describe('a dead waiter first in line', () => {
  const t = useTestSchema()
  let slots: Coordinator
  beforeAll(() => {
    // Polls every minute: only the expiry timer can explain a grant within seconds.
    slots = t.coordinator({ pollIntervalMs: 60_000 })
  })

  /** A holder process and a waiter process on `name`, both listening and alive. */
  async function holderAndWaiter(name: string) {
    await slots.limits.create(name, { slots: 1 })
    const job = { url: t.url, schema: t.schema, names: [name], count: 1 }
    const holder = await startWorker('slot-worker', { ...job, action: 'hold', ttlMs: 2000, label: 'holder' })
    const waiter = await startWorker('slot-worker', { ...job, action: 'queue', label: 'dead waiter' })
    await until(async () => (await t.query(`SELECT 1 FROM waiters WHERE queue = $1 AND listener_pid IS NOT NULL`, [name])).length === 1, 'the waiter in line')
    const [w] = await t.query<{ listener_pid: number }>('SELECT listener_pid FROM waiters WHERE queue = $1', [name])
    const killBoth = async () => {
      await Promise.all([holder.kill('SIGKILL'), waiter.kill('SIGKILL')])
      await until(async () => (await t.query('SELECT 1 FROM pg_stat_get_activity($1)', [w!.listener_pid])).length === 0, 'the waiter backend to exit')
      const [lease] = await t.query<{ expires_at: Date }>('SELECT expires_at FROM leases WHERE $1 = ANY (names)', [name])
      return lease!.expires_at
    }
    return { killBoth }
  }

  async function grantedAt(name: string, holder: string): Promise<Date> {
    const [row] = await t.query<{ acquired_at: Date }>(`SELECT acquired_at FROM leases WHERE $1 = ANY (names) AND holder #>> '{}' = $2`, [name, holder])
    return row!.acquired_at
  }

  it('does not stop a live waiter that queues after both died from getting the slot at the ttl', async () => {
    const { killBoth } = await holderAndWaiter('ahead:before')
    const expiresAt = await killBoth()
    const lease = await slots.acquire('ahead:before', { holder: 'live', timeoutMs: 20_000 })
    const late = (await grantedAt('ahead:before', 'live')).getTime() - expiresAt.getTime()
    expect(late).toBeLessThan(1000)
    await lease.release()
  })

  it('does not stop a live waiter that queued behind it before both died', async () => {
    const { killBoth } = await holderAndWaiter('ahead:after')
    const pending = slots.acquire('ahead:after', { holder: 'live', timeoutMs: 20_000 })
    await until(async () => (await t.query(`SELECT 1 FROM waiters WHERE queue = 'ahead:after'`)).length === 2, 'the live waiter behind')
    const expiresAt = await killBoth()
    const lease = await pending
    const late = (await grantedAt('ahead:after', 'live')).getTime() - expiresAt.getTime()
    expect(late).toBeLessThan(1000)
    await lease.release()
    // The dead waiter's row went with the grant that skipped it.
    expect(await t.query(`SELECT 1 FROM waiters WHERE queue = 'ahead:after'`)).toEqual([])
  })

  it('a dead waiter on two limits, blocked on one of them, does not hold up the other', async () => {
    await slots.limits.create('pair:a', { slots: 1 })
    await slots.limits.create('pair:b', { slots: 1 })
    const holdsA = await slots.acquire('pair:a')
    const holdsB = await slots.acquire('pair:b')
    const aheadOnB = slots.acquire('pair:b', { holder: 'ahead on b', timeoutMs: 20_000 })
    await until(async () => (await t.query(`SELECT 1 FROM waiters WHERE queue = 'pair:b'`)).length === 1, 'a live waiter on b')
    const dead = await startWorker('slot-worker', { url: t.url, schema: t.schema, names: ['pair:a', 'pair:b'], count: 1, action: 'queue', label: 'dead' })
    await until(async () => (await t.query(`SELECT 1 FROM waiters WHERE holder #>> '{}' = 'dead' AND listener_pid IS NOT NULL`)).length === 2, 'the dead waiter in both lines')
    const [d] = await t.query<{ listener_pid: number }>(`SELECT listener_pid FROM waiters WHERE holder #>> '{}' = 'dead' LIMIT 1`)
    const behindOnA = slots.acquire('pair:a', { holder: 'behind on a', timeoutMs: 20_000 })
    await until(async () => (await t.query(`SELECT 1 FROM waiters WHERE queue = 'pair:a'`)).length === 2, 'a live waiter behind it on a')
    await dead.kill('SIGKILL')
    await until(async () => (await t.query('SELECT 1 FROM pg_stat_get_activity($1)', [d!.listener_pid])).length === 0, 'its backend to exit')
    await holdsA.release()
    const lease = await behindOnA
    expect([...lease.names]).toEqual(['pair:a'])
    await Promise.all([lease.release(), holdsB.release()])
    await (await aheadOnB).release()
  })

  it('pgslots run: a third run gets the slot of a killed holder with a killed run queued ahead of it', async () => {
    const env = { DATABASE_URL: t.url, HOME: process.env.HOME }
    const run = (args: string[]) => spawn(process.execPath, [cliPath, '--schema', t.schema, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' })
    expect((await runCli(['--schema', t.schema, 'limit', 'create', 'stuck:one', '--slots', '1'], env)).code).toBe(0)
    const started: ChildProcess[] = []
    const orphans: number[] = []
    try {
      started.push(run(['run', 'stuck:one', '--ttl', '3000', '--', 'sleep', '100']))
      await until(async () => (await t.query(`SELECT 1 FROM leases WHERE 'stuck:one' = ANY (names)`)).length === 1, 'the holder run')
      started.push(run(['run', 'stuck:one', '--', 'true']))
      await until(async () => (await t.query(`SELECT 1 FROM waiters WHERE queue = 'stuck:one' AND listener_pid IS NOT NULL`)).length === 1, 'the queued run')
      const [w] = await t.query<{ listener_pid: number }>(`SELECT listener_pid FROM waiters WHERE queue = 'stuck:one'`)
      // `sleep 100` outlives its killed run: remember it to end it by its own PID.
      orphans.push(...started.flatMap((child) => childPids(child.pid!)))
      for (const child of started) child.kill('SIGKILL')
      await until(async () => (await t.query('SELECT 1 FROM pg_stat_get_activity($1)', [w!.listener_pid])).length === 0, 'the queued run backend to exit')
      const third = await runCli(['--schema', t.schema, 'run', 'stuck:one', '--timeout', '20000', '--', 'echo', 'C'], env)
      expect(third.stderr).toBe('')
      expect(third.stdout).toBe('C\n')
      expect(third.code).toBe(0)
    } finally {
      for (const child of started) child.kill('SIGKILL')
      for (const pid of orphans) process.kill(pid, 'SIGKILL')
    }
  })
})
