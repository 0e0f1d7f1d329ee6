import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../src/demo/embedded-postgres.js'

export const pgbouncerBinary = '/usr/sbin/pgbouncer'
export const hasPgbouncer = existsSync(pgbouncerBinary)

/** A real PgBouncer in transaction pooling mode on 127.0.0.1 in front of `databaseUrl`. */
export interface Bouncer {
  url: string
  stop(): Promise<void>
}

export async function startPgbouncer(databaseUrl: string): Promise<Bouncer> {
  const target = new URL(databaseUrl)
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'pgslots-bouncer-'))
  await chmod(dir, 0o777)
  const user = decodeURIComponent(target.username)
  const password = decodeURIComponent(target.password)
  const database = target.pathname.slice(1) || 'postgres'
  await writeFile(join(dir, 'users.txt'), `"${user}" "${password}"\n`)
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = host=${target.hostname} port=${target.port} dbname=${database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = plain',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 200',
      'default_pool_size = 10',
      'ignore_startup_parameters = extra_float_digits,options',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
    ].join('\n'),
  )
  // PgBouncer refuses to run as root; -u drops to the postgres user.
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', join(dir, 'pgbouncer.ini')] : [join(dir, 'pgbouncer.ini')]
  const child: ChildProcess = spawn(pgbouncerBinary, args, { stdio: 'ignore' })
  await waitForPort(port, child)
  return {
    url: `postgres://${target.username}:${target.password}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, '127.0.0.1')
      socket.once('connect', () => resolve(true)).once('error', () => resolve(false))
      socket.once('close', () => socket.destroy())
      setTimeout(() => socket.end(), 50)
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('pgbouncer did not start listening')
}
