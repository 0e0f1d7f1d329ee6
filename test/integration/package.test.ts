import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, normalize } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const version = (file: string) => (JSON.parse(readFileSync(join(root, file), 'utf8')) as { version: string }).version

/** The README's TypeScript blocks, in order (setup.ts, worker.ts). */
function readmeQuickStart(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('### Options'))
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
}

// What a user gets from `npm pack`, installed into an empty TypeScript app.
describe('the package', () => {
  let work: string
  let files: string[]
  let tarball: string
  let url: string
  const database = `pgslots_pkg_${process.pid}`
  const admin = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 })

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pgslots-package-'))
    // npm test has built dist/ already; prepack would build it again under the running tests.
    const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root })
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    files = packed!.files.map((f) => f.path)
    tarball = join(work, packed!.filename)
    await admin.query(`DROP DATABASE IF EXISTS ${database}`)
    await admin.query(`CREATE DATABASE ${database}`)
    const target = new URL(inject('databaseUrl'))
    target.pathname = `/${database}`
    url = target.toString()
  }, 120_000)
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {})
    await admin.end()
    await rm(work, { recursive: true, force: true })
  })

  it('ships dist/, the SQL, a LICENSE, and source maps whose sources it ships too', async () => {
    for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/src/lease/renewer-thread.js', 'LICENSE', 'migrations/0001_baseline.sql', 'src/sql/functions/acquire.sql', 'src/sql/views/limit_status.sql']) {
      expect(files).toContain(file)
    }
    expect(files.filter((f) => f.startsWith('dist/') && !/^dist\/(src|examples)\//.test(f))).toEqual([])
    const maps = files.filter((f) => f.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(0)
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(join(root, map), 'utf8')) as { sources: string[] }
      for (const source of sources) expect(files, `${map} → ${source}`).toContain(normalize(join(dirname(map), source)))
    }
  })

  it('installs into an empty app: the CLI, the import, and the README Quick start under strict types', async () => {
    const app = join(work, 'app')
    await exec('mkdir', ['-p', app])
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    await exec(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `@types/node@${version('node_modules/@types/node/package.json')}`, `typescript@${version('node_modules/typescript/package.json')}`],
      { cwd: app },
    )
    const bin = join(app, 'node_modules', '.bin', 'pgslots')
    const cli = (args: string[]) => exec(bin, args, { cwd: app, env: { PATH: process.env.PATH } })
    expect((await cli(['--version'])).stdout.trim()).toBe(version('package.json'))
    expect((await cli(['migrate', '--database-url', url])).stdout).toMatch(/applied 0001_baseline/)
    expect(JSON.parse((await cli(['limit', 'ls', '--json', '--database-url', url])).stdout)).toEqual([])
    const imported = await exec(process.execPath, ['--input-type=module', '-e', "const m = await import('pgslots'); console.log(typeof m.Coordinator)"], { cwd: app })
    expect(imported.stdout.trim()).toBe('function')

    const [setup, worker] = readmeQuickStart()
    await writeFile(join(app, 'setup.ts'), setup!)
    await writeFile(join(app, 'worker.ts'), worker!)
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          exactOptionalPropertyTypes: true,
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          outDir: 'out',
        },
        files: ['setup.ts', 'worker.ts'],
      }),
    )
    await exec(join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: app })
    const env = { PATH: process.env.PATH, OWNER_DATABASE_URL: url, DATABASE_URL: url }
    expect(existsSync(join(app, 'out', 'setup.js'))).toBe(true)
    const set = await exec(process.execPath, ['out/setup.js'], { cwd: app, env })
    expect(set.stderr).toBe('')
    const ran = await exec(process.execPath, ['out/worker.js'], { cwd: app, env })
    // The worker's limit comes from the template on first use, and the default onWarning says so.
    expect(ran.stderr).toBe('pgslots: created gpu:gpu-1 from template gpu:*\n')
    expect(ran.stdout).toMatch(/^trained under token \d+\ntrained under token \d+\n$/)
  }, 180_000)
})
