import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../src/demo/embedded-postgres.js'

export const run = promisify(execFile)
export const bin = '/usr/lib/postgresql/15/bin'
export const hasPgCron = existsSync(`${bin}/pg_ctl`) && existsSync('/usr/lib/postgresql/15/lib/pg_cron.so')

/** A PostgreSQL 15 cluster from the Debian packages with pg_cron preloaded, run as `postgres`. */
export interface CronCluster {
  url: string
  stop(): Promise<void>
}

/** Binaries run as `postgres` when the tests run as root (PostgreSQL refuses root). */
export async function postgresIds(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {}
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout)
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout)
  return { uid, gid }
}

export async function startCronCluster(): Promise<CronCluster> {
  const parent = await mkdtemp(join(tmpdir(), 'pgslots-pg15-'))
  await chmod(parent, 0o777)
  const dataDir = join(parent, 'data')
  const port = await freePort()
  const ids = await postgresIds()
  await run(`${bin}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8'], ids)
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    '-c shared_preload_libraries=pg_cron',
    '-c cron.database_name=postgres',
    '-c fsync=off',
  ].join(' ')
  await run(`${bin}/pg_ctl`, ['-D', dataDir, '-o', options, '-l', join(parent, 'log'), '-w', 'start'], ids)
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await run(`${bin}/pg_ctl`, ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], ids).catch(() => {})
      await rm(parent, { recursive: true, force: true })
    },
  }
}
