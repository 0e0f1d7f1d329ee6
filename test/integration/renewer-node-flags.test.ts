import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtHelper } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'

interface Result {
  lost: boolean
  released: boolean
  warnings: string[]
}

/** How to start node on the helper script `file`. */
type Launch = (file: string) => { args: string[]; env?: Record<string, string>; stdin?: string }

const t = useTestSchema()
let dir: string
let nextName = 0
const children = new Set<ChildProcess>()
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgslots-flags-'))
})
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** A preload module in the temp folder that runs `body` in worker threads only. */
function inWorkersOnly(file: string, body: string): string {
  const path = join(dir, file)
  writeFileSync(path, `import { isMainThread } from 'node:worker_threads'\nif (!isMainThread) { ${body} }\n`)
  return path
}

/** Pass-through loader hooks, like those of tsx or a coverage tool. */
function loaderHooks(): string {
  const hooks = join(dir, 'hooks.mjs')
  writeFileSync(hooks, 'export async function resolve(specifier, context, next) { return next(specifier, context) }\n')
  return pathToFileURL(hooks).href
}

/** A module that registers the loader hooks, for --import (the way tsx is loaded). */
function hooksRegistration(): string {
  const register = join(dir, 'register.mjs')
  writeFileSync(register, `import { register } from 'node:module'\nregister(${JSON.stringify(loaderHooks())})\n`)
  return pathToFileURL(register).href
}

const importOf = (file: string) => `await import(${JSON.stringify(pathToFileURL(file).href)})`

/**
 * Starts the flagged-holder helper the way `launch` says, holding a slot for over two ttls
 * (its event loop free all along), and resolves with its report. A --watch supervisor
 * keeps running after its script ends, so the child is stopped once it has reported.
 */
async function holdUnder(launch: Launch): Promise<Result> {
  const name = `flags-${nextName++}`
  await t.coordinator().limits.create(name, { slots: 1 })
  const { args, env, stdin } = launch(builtHelper('flagged-holder'))
  const job = { url: t.url, schema: t.schema, name, ttlMs: 3000, holdMs: 7000 }
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, PGSLOTS_TEST_JOB: JSON.stringify(job) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  child.stdin.end(stdin ?? '')
  let out = ''
  let err = ''
  child.stderr.on('data', (chunk) => (err += chunk))
  return new Promise<Result>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk
      const found = /pgslots-result (\{.*\})/.exec(out)
      if (!found) return
      child.kill('SIGKILL')
      resolve(JSON.parse(found[1]!) as Result)
    })
    child.on('close', (code) => reject(new Error(`exited with ${code} before reporting:\n${out}\n${err}`)))
  })
}

// The permission model's flag lost its experimental prefix in later node versions.
const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission'

describe.concurrent('the renewer thread under the flags node was started with', () => {
  it.each<[string, Launch]>([
    ['-e with --input-type=module', (file) => ({ args: ['--input-type=module', '-e', importOf(file)] })],
    ['--input-type=module reading the script from stdin', (file) => ({ args: ['--input-type=module'], stdin: importOf(file) })],
    ['-e (CommonJS)', (file) => ({ args: ['-e', `import(${JSON.stringify(pathToFileURL(file).href)})`] })],
    ['--import of a module that registers loader hooks (as tsx does)', (file) => ({ args: ['--import', hooksRegistration(), file] })],
    ['--loader', (file) => ({ args: ['--loader', loaderHooks(), file] })],
    ['--test', (file) => ({ args: ['--test', file] })],
    ['--watch', (file) => ({ args: ['--watch', file] })],
    ['--inspect=127.0.0.1:0', (file) => ({ args: ['--inspect=127.0.0.1:0', file] })],
  ])('keeps the lease renewed from the thread, without a warning: %s', async (_, launch) => {
    const result = await holdUnder(launch)
    expect(result).toEqual({ lost: false, released: true, warnings: [] })
  })

  it.each<[string, Launch]>([
    ['the permission model refuses worker threads', (file) => ({ args: [permission, '--allow-fs-read=*', file] })],
    [
      'the thread fails while it loads (a preload that throws in workers)',
      (file) => ({ args: [file], env: { NODE_OPTIONS: `--import ${inWorkersOnly('throws.mjs', "throw new Error('no threads here')")}` } }),
    ],
    [
      'the thread never finishes loading (a preload that hangs in workers)',
      (file) => ({
        args: [file],
        env: { NODE_OPTIONS: `--import ${inWorkersOnly('hangs.mjs', 'setInterval(() => {}, 1000); await new Promise(() => {})')}` },
      }),
    ],
  ])('renews on the event loop instead, with one warning, when %s', async (_, launch) => {
    const result = await holdUnder(launch)
    expect(result).toMatchObject({ lost: false, released: true })
    expect(result.warnings).toHaveLength(1)
    expect(result.warnings[0]).toMatch(/^the lease renewer thread .*: leases .*renew on the event loop$/)
  })
})
