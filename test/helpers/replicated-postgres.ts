import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from '../../src/demo/embedded-postgres.js'
import { bin, postgresIds, run } from './debian-postgres.js'

export const hasReplicationBinaries = existsSync(`${bin}/pg_ctl`) && existsSync(`${bin}/pg_basebackup`)

/** A PostgreSQL 15 primary and a streaming standby on 127.0.0.1, run as `postgres`. */
export interface ReplicatedPair {
  /** The current primary's port (it changes at replaceStandby()). */
  readonly primaryPort: number
  readonly standbyPort: number
  url(port: number): string
  /** SIGKILL the primary's postmaster and every backend: a crashed host. */
  killPrimary(): Promise<void>
  /** Stop the standby (it then misses whatever the primary commits next). */
  stopStandby(): Promise<void>
  startStandby(): Promise<void>
  /** Promote the standby; it then takes writes on a new timeline. */
  promoteStandby(): Promise<void>
  /**
   * After the primary crashed and the standby was promoted: the promoted node becomes the
   * primary, the crashed one is discarded, and a new standby is cloned from the primary and
   * started (and, in a synchronous pair, made its synchronous standby again).
   */
  replaceStandby(): Promise<void>
  stop(): Promise<void>
}

const STANDBY_NAME = 'standby'
const settings = (port: number, extra: string[]) =>
  [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    '-c max_connections=200',
    '-c wal_level=replica',
    '-c max_wal_senders=4',
    // Only processes are killed here, never the machine: the page cache keeps what fsync would.
    '-c fsync=off',
    // Every node may be a standby (it names itself to its primary) and may be promoted.
    `-c cluster_name=${STANDBY_NAME}`,
    '-c hot_standby=on',
    ...extra,
  ].join(' ')

/**
 * Starts the pair. In a synchronous pair every commit on the primary waits for the standby;
 * while the standby is being replaced after a failover the new primary runs alone (as
 * Patroni's non-strict synchronous_mode does), and it is made synchronous again once the new
 * standby streams, before anything may fail over again.
 */
export async function startReplicatedPair(options: { synchronous: boolean }): Promise<ReplicatedPair> {
  const parent = await mkdtemp(join(tmpdir(), 'pgslots-replicated-'))
  await chmod(parent, 0o777)
  const ids = await postgresIds()
  let nodes = 0
  const node = async () => ({ dir: join(parent, `node-${++nodes}`), port: await freePort() })
  const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`
  const start = (dir: string, port: number) =>
    run(`${bin}/pg_ctl`, ['-D', dir, '-o', settings(port, []), '-l', `${dir}.log`, '-w', 'start'], ids)
  const stopServer = (dir: string, mode: string) => run(`${bin}/pg_ctl`, ['-D', dir, '-m', mode, '-w', 'stop'], ids)

  let primary = await node()
  await run(`${bin}/initdb`, ['-D', primary.dir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8'], ids)
  await start(primary.dir, primary.port)

  /** A new standby cloned from the primary, streaming; synchronous if the pair is. */
  const cloneStandby = async () => {
    const standby = await node()
    await run(
      `${bin}/pg_basebackup`,
      ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', standby.dir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
      ids,
    )
    // The clone copied the primary's synchronous_standby_names (ALTER SYSTEM below): were it
    // promoted with it, every commit would wait for a standby that does not exist yet.
    const autoConf = join(standby.dir, 'postgresql.auto.conf')
    const lines = (await readFile(autoConf, 'utf8')).split('\n')
    await writeFile(autoConf, lines.filter((line) => !line.startsWith('synchronous_standby_names')).join('\n'))
    await start(standby.dir, standby.port)
    if (options.synchronous) await makeSynchronous(url(primary.port))
    return standby
  }
  let standby = await cloneStandby()

  return {
    get primaryPort() {
      return primary.port
    },
    get standbyPort() {
      return standby.port
    },
    url,
    async killPrimary() {
      const pid = Number((await readFile(join(primary.dir, 'postmaster.pid'), 'utf8')).split('\n')[0])
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
      await stopServer(standby.dir, 'fast')
    },
    async startStandby() {
      await start(standby.dir, standby.port)
    },
    async promoteStandby() {
      await run(`${bin}/pg_ctl`, ['-D', standby.dir, '-w', 'promote'], ids)
    },
    async replaceStandby() {
      const crashed = primary
      primary = standby
      await rm(crashed.dir, { recursive: true, force: true })
      standby = await cloneStandby()
    },
    async stop() {
      await stopServer(standby.dir, 'immediate').catch(() => {})
      await stopServer(primary.dir, 'immediate').catch(() => {})
      await rm(parent, { recursive: true, force: true })
    },
  }
}

/** Names the standby synchronous on the primary and waits until it is. */
async function makeSynchronous(primaryUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: primaryUrl })
  await client.connect()
  try {
    await client.query(`ALTER SYSTEM SET synchronous_standby_names = '${STANDBY_NAME}'`)
    await client.query('SELECT pg_reload_conf()')
    for (let i = 0; i < 600; i++) {
      const { rows } = await client.query("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'")
      if (rows.length > 0) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('the standby never became synchronous')
  } finally {
    await client.end()
  }
}
