import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runNode } from '../helpers/cli.js'
import { useTestSchema } from '../helpers/test-schema.js'

const workerScript = fileURLToPath(new URL('../../dist/examples/image-pipeline/worker.js', import.meta.url))

// examples/image-pipeline as a user runs it: the built worker, as a real process.
describe('the image pipeline example', () => {
  const t = useTestSchema()

  const runWorker = (env: Record<string, string>) =>
    runNode(workerScript, [], { DATABASE_URL: t.url, PGSLOTS_SCHEMA: t.schema, WORKER_ID: 'gpu-9', FLOWS: '3', SPEED: '20', ...env })

  it('without the templates: one clear line, no stack traces', async () => {
    const result = await runWorker({})
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      `gpu-9: limit template(s) gpu:*, net:*, disk:* not found in schema ${t.schema}; create them first: pgslots limit create 'gpu:*' --slots N; pgslots limit create 'net:*' --slots N; pgslots limit create 'disk:*' --slots N\n`,
    )
  })

  it('with them: says how the flows go while they run', async () => {
    const slots = t.coordinator()
    await slots.limits.create('gpu:*', { slots: 2 })
    await slots.limits.create('net:*', { slots: 10 })
    await slots.limits.create('disk:*', { slots: 10 })
    const result = await runWorker({})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('gpu-9: starting 3 flows; at most gpu:gpu-9 of them on the GPU at once')
    expect(lines.filter((l) => /^gpu-9: flow \d done \(\d\/3, \d+\.\d s\)$/.test(l))).toHaveLength(3)
    expect(lines.at(-1)).toMatch(/^gpu-9: all 3 flows done in \d+\.\d s$/)
  })
})
