import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Registry } from 'prom-client'
import { beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/demo/embedded-postgres.js'
import { type Coordinator, registerMetrics } from '../../src/index.js'
import { useTestSchema } from '../helpers/test-schema.js'

describe('Prometheus metrics', () => {
  const t = useTestSchema()
  let slots: Coordinator
  beforeAll(async () => {
    slots = t.coordinator()
    await slots.limits.create('gpu:m1', { slots: 2 })
  })

  it('registers per-limit gauges and process counters in a user registry', async () => {
    const registry = new Registry()
    const unregister = registerMetrics(slots, registry)
    const lease = await slots.acquire('gpu:m1', { ttlMs: 1500 })
    const text = await registry.metrics()
    expect(text).toMatch(/pgslots_limit_slots\{limit="gpu:m1"\} 2/)
    expect(text).toMatch(/pgslots_limit_used_slots\{limit="gpu:m1"\} 1/)
    expect(text).toMatch(/pgslots_limit_waiting\{limit="gpu:m1"\} 0/)
    expect(text).toMatch(/pgslots_acquisitions_total\{limit="gpu:m1"\} 1/)
    expect(text).toMatch(/pgslots_acquire_wait_seconds_count\{limit="gpu:m1"\} 1/)
    await slots.leases.revoke(lease.fencingToken)
    await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve()))
    expect(await registry.metrics()).toMatch(/pgslots_leases_lost_total\{limit="gpu:m1"\} 1/)
    // Waiting per priority: two requests of priority 3 and one of 0 behind a full limit.
    const full = [await slots.acquire('gpu:m1'), await slots.acquire('gpu:m1')]
    const queued = [slots.acquire('gpu:m1', { priority: 3 }), slots.acquire('gpu:m1', { priority: 3 }), slots.acquire('gpu:m1')]
    for (let i = 0; i < 100 && (await t.query('SELECT 1 FROM waiters')).length < 3; i++) await new Promise((r) => setTimeout(r, 20))
    const waiting = await registry.metrics()
    expect(waiting).toMatch(/pgslots_limit_waiting_by_priority\{limit="gpu:m1",priority="3"\} 2/)
    expect(waiting).toMatch(/pgslots_limit_waiting_by_priority\{limit="gpu:m1",priority="0"\} 1/)
    for (const lease of full) await lease.release()
    for (const pending of queued) await (await pending).release()
    unregister()
    expect(await registry.metrics()).not.toMatch(/pgslots_/)
  })

  it('serves /metrics over HTTP from `pgslots metrics --port`', async () => {
    const port = await freePort()
    const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
    const child = spawn(process.execPath, [cli, '--schema', t.schema, 'metrics', '--port', String(port)], {
      env: { ...process.env, DATABASE_URL: t.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
      const held = await slots.acquire('gpu:m1')
      const response = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(response.status).toBe(200)
      const body = await response.text()
      expect(body).toMatch(/pgslots_limit_used_slots\{limit="gpu:m1"\} 1/)
      expect(body).toMatch(/# TYPE pgslots_acquire_wait_seconds histogram/)
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404)
      await held.release()
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  })
})
