import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { cliPath, runCli } from '../helpers/cli.js'
import { descendants, stillRunning } from '../helpers/process-tree.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { until } from '../helpers/until.js'

// `pgslots demo` starts 2 worker processes, each starting 10 flow processes: stopping the
// demo must stop them all, however it is stopped, and leave nothing that holds up the next run.
describe('pgslots demo stopped midway (built, as real processes)', () => {
  // A schema per test: what one demo left behind must not look like the next one's flows.
  const t = useTestSchema({ perTest: true })
  let started: number[] = []
  const env = () => ({ ...process.env, DATABASE_URL: t.url })

  afterEach(() => {
    // A failing run must not leave its 22 processes behind.
    for (const pid of stillRunning(started)) process.kill(pid, 'SIGKILL')
    started = []
  })

  /** A demo at speed 0.5 (6 s per GPU step), once flows of both workers wait for their GPU; with every process it started by then. */
  async function demoWithFlowsWaiting() {
    const child = spawn(process.execPath, [cliPath, 'demo', '--schema', t.schema, '--speed', '0.5'], { env: env() })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.stdout.resume()
    // 'exit', not 'close': processes it leaves behind would keep the pipes open.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    )
    await until(async () => {
      const [row] = await t.query<{ n: number }>(`SELECT count(DISTINCT queue)::int AS n FROM waiters WHERE queue LIKE 'gpu:%'`)
      return row!.n === 2
    }, 'flows of both workers wait for their GPU', 60_000)
    started = descendants(child.pid!)
    expect(started).toHaveLength(2 + 2 * 10)
    return { child, exited, started, stderr: () => stderr }
  }

  it('ends every worker and flow process on Ctrl-C before it exits 130, and the next run starts clean', async () => {
    const demo = await demoWithFlowsWaiting()
    demo.child.kill('SIGINT')
    const { code, signal } = await demo.exited
    expect(stillRunning(demo.started), 'worker and flow processes still running after the demo exited').toEqual([])
    expect({ code, signal }).toEqual({ code: 130, signal: null })
    expect(demo.stderr()).toMatch(/^pgslots: demo interrupted by SIGINT; every worker and flow process it started has ended\n$/)

    // The flows died holding GPU slots (leases good for their 30 s ttl) and places in the queues.
    const [left] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM leases WHERE names[1] LIKE 'gpu:%'`)
    expect(left!.n).toBe(4)
    const secondStarted = (await t.sql.query<{ now: Date }>('SELECT now()')).rows[0]!.now
    const second = await runCli(['demo', '--schema', t.schema, '--speed', '4'], env())
    expect(second.stderr).toBe('')
    expect(second.code).toBe(0)
    for (const worker of ['gpu-1', 'gpu-2']) expect(second.stdout).toMatch(`${worker}: max 2 concurrent on GPU (limit 2), 10/10 flows done`)
    // The first flow of each worker to ask for its GPU got it at once (no wait for those leases to expire).
    const firstAsks = await t.query<{ name: string; waited: number }>(
      `SELECT DISTINCT ON (names[1]) names[1] AS name, extract(epoch FROM granted_at - asked_at)::float AS waited
       FROM history WHERE kind = 'released' AND names[1] LIKE 'gpu:%' AND asked_at > $1 ORDER BY names[1], asked_at`,
      [secondStarted],
    )
    expect(firstAsks.map((r) => r.name)).toEqual(['gpu:gpu-1', 'gpu:gpu-2'])
    for (const ask of firstAsks) expect(ask.waited, ask.name).toBeLessThan(1)
  }, 180_000)

  it('its workers and flows end by themselves when the demo is killed with SIGKILL', async () => {
    const demo = await demoWithFlowsWaiting()
    demo.child.kill('SIGKILL')
    await demo.exited
    await until(async () => stillRunning(demo.started).length === 0, 'every worker and flow process has ended', 10_000).catch(
      () => expect(stillRunning(demo.started), 'worker and flow processes still running 10 s after SIGKILL').toEqual([]),
    )
  }, 120_000)
})
