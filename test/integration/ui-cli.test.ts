import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { startUi } from '../helpers/ui-server.js'
import { until } from '../helpers/until.js'

const root = new URL('../../', import.meta.url)

describe('pgslots ui on the command line', () => {
  const t = useTestSchema()

  it('prints its URL first, serves the page and uPlot from the package', async () => {
    const ui = await startUi(['--schema', t.schema], { DATABASE_URL: t.url })
    try {
      expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      expect((await fetch(ui.url)).headers.get('content-type')).toContain('text/html')
      expect((await fetch(`${ui.url}vendor/uPlot.iife.min.js`)).status).toBe(200)
      expect((await fetch(`${ui.url}assets/app.js`)).status).toBe(200)
      expect((await fetch(`${ui.url}nothing`)).status).toBe(404)
    } finally {
      await ui.stop()
    }
  })

  it('refuses a page asked for under another host name (DNS rebinding)', async () => {
    const ui = await startUi(['--schema', t.schema], { DATABASE_URL: t.url })
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(ui.url, { headers: { host: 'evil.example' } }, (res) => resolve(res.statusCode ?? 0))
        req.on('error', reject).end()
      })
      expect(status).toBe(421)
    } finally {
      await ui.stop()
    }
  })

  it('warns in one line on stderr when it listens on every address', async () => {
    const ui = await startUi(['--host', '0.0.0.0', '--schema', t.schema], { DATABASE_URL: t.url })
    try {
      await until(async () => ui.stderr().includes('\n'), 'the warning')
      expect(ui.stderr()).toMatch(/^pgslots: warning: --host 0\.0\.0\.0 serves the page .* to the network\n$/)
    } finally {
      await ui.stop()
    }
  })

  it('exits 2 with one line for a bad --port', async () => {
    const result = await runCli(['ui', '--port', '70000'], { DATABASE_URL: t.url })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^pgslots: .*--port.*70000.*\n$/)
  })

  it('exits 1 with one line when the port is in use', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as { port: number }
    try {
      const result = await runCli(['ui', '--port', String(port), '--schema', t.schema], { DATABASE_URL: t.url })
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(`pgslots: port ${port} on 127.0.0.1 is already in use\n`)
    } finally {
      taken.close()
    }
  })

  it('serves the page while the demo runs with --ui', async () => {
    const result = await runCli(['demo', '--ui', '--speed', '50', '--schema', `${t.schema}_demo`], { DATABASE_URL: t.url })
    await t.sql.query(`DROP SCHEMA IF EXISTS "${t.schema}_demo" CASCADE`)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/\npgslots ui: http:\/\/127\.0\.0\.1:\d+\/ \(until the demo ends\)\n/)
  }, 120_000)

  it('ships the page in the package, and uPlot as a dependency (no front-end build)', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root }, (error, out) => (error ? reject(error) : resolve(out))),
    )
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path)
    for (const asset of ['index.html', 'app.js', 'charts.js', 'timeline.js', 'style.css']) expect(files).toContain(`src/ui/assets/${asset}`)
    expect(files).toContain('dist/src/ui/server.js')
    const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies: Record<string, string> }
    expect(Object.keys(manifest.dependencies)).toContain('uplot')
  }, 60_000)
})
