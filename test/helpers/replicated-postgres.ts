import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../src/embedded-postgres.js'
import { bin, postgresIds, run } from './debian-postgres.js'

export const hasReplicationBinaries = existsSync(`${bin}/pg_ctl`) && existsSync(`${bin}/pg_basebackup`)

/** A PostgreSQL 15 primary and a streaming standby on 127.0.0.1, run as `postgres`. */
export interface ReplicatedPair {
  primaryPort: number
  standbyPort: number
  url(port: number): string
  /** SIGKILL the primary's postmaster and every backend: a crashed host. */
  killPrimary(): Promise<void>
  /** Stop the standby (it then misses whatever the primary commits next). */
  stopStandby(): Promise<void>
  startStandby(): Promise<void>
  /** Promote the standby; it then takes writes on a new timeline. */
  promoteStandby(): Promise<void>
  stop(): Promise<void>
}

export async function startReplicatedPair(options: { synchronous: boolean }): Promise<ReplicatedPair> {
  const parent = await mkdtemp(join(tmpdir(), 'pgslots-replicated-'))
  await chmod(parent, 0o777)
  const primaryDir = join(parent, 'primary')
  const standbyDir = join(parent, 'standby')
  const [primaryPort, standbyPort] = [await freePort(), await freePort()]
  const ids = await postgresIds()
  const serverOptions = (port: number, extra: string[]) =>
    [`-p ${port}`, '-c listen_addresses=127.0.0.1', "-c unix_socket_directories=''", ...extra].join(' ')
  const start = (dir: string, port: number, extra: string[]) =>
    run(`${bin}/pg_ctl`, ['-D', dir, '-o', serverOptions(port, extra), '-l', `${dir}.log`, '-w', 'start'], ids)

  await run(`${bin}/initdb`, ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8'], ids)
  // The standby names itself `standby` (cluster_name is its application_name upstream).
  const sync = options.synchronous ? ["-c synchronous_standby_names='standby'", '-c synchronous_commit=on'] : []
  await start(primaryDir, primaryPort, ['-c wal_level=replica', '-c max_wal_senders=4', ...sync])
  await run(
    `${bin}/pg_basebackup`,
    ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream', '-c', 'fast'],
    ids,
  )
  const standbyExtra = ['-c cluster_name=standby', '-c hot_standby=on']
  const startStandby = async () => void (await start(standbyDir, standbyPort, standbyExtra))
  await startStandby()
  const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`
  if (options.synchronous) await waitForSyncStandby(url(primaryPort))

  const stopServer = (dir: string, mode: string) => run(`${bin}/pg_ctl`, ['-D', dir, '-m', mode, '-w', 'stop'], ids)
  return {
    primaryPort,
    standbyPort,
    url,
    async killPrimary() {
      const pid = Number((await readFile(join(primaryDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
      const children = (await run('ps', ['-o', 'pid=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }))).stdout
      process.kill(pid, 'SIGKILL')
      for (const child of children.split('\n').map(Number).filter(Boolean)) {
        try {
          process.kill(child, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    },
    async stopStandby() {
      await stopServer(standbyDir, 'fast')
    },
    startStandby,
    async promoteStandby() {
      await run(`${bin}/pg_ctl`, ['-D', standbyDir, '-w', 'promote'], ids)
    },
    async stop() {
      await stopServer(standbyDir, 'immediate').catch(() => {})
      await stopServer(primaryDir, 'immediate').catch(() => {})
      await rm(parent, { recursive: true, force: true })
    },
  }
}

async function waitForSyncStandby(primaryUrl: string): Promise<void> {
  const pg = (await import('pg')).default
  const client = new pg.Client({ connectionString: primaryUrl })
  await client.connect()
  try {
    for (let i = 0; i < 300; i++) {
      const { rows } = await client.query("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'")
      if (rows.length > 0) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('the standby never became synchronous')
  } finally {
    await client.end()
  }
}

