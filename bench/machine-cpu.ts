// Machine CPU of a measured window: the Node process(es) running the loops (client) and every
// process of the PostgreSQL cluster (server: the postmaster and all its children — backends,
// walwriter, checkpointer, autovacuum, …), read from /proc. The server side needs the cluster
// on this machine: a database elsewhere (or in a container's pid namespace) reads as null.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import pg from 'pg'

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

interface ProcStat {
  ppid: number
  /** utime + stime of the process, and cutime + cstime of its children that have exited. */
  ownTicks: number
  reapedChildTicks: number
}

function procStat(pid: number): ProcStat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // Fields after the command name (in parentheses, which may itself hold spaces): state is field 3.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const at = (field: number) => Number(f[field - 3])
  return { ppid: at(4), ownTicks: at(14) + at(15), reapedChildTicks: at(16) + at(17) }
}

/** CPU ms so far of the process `root` and all its live children, plus its children that exited. */
export function processTreeCpuMs(root: number): number | null {
  const rootStat = procStat(root)
  if (!rootStat) return null
  // A child that exits between two samples is counted in the postmaster's cutime/cstime once
  // reaped; one that is born in the window is counted from zero.
  let ticks = rootStat.ownTicks + rootStat.reapedChildTicks
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === root) continue
    const s = procStat(pid)
    if (s?.ppid === root) ticks += s.ownTicks + s.reapedChildTicks
  }
  return (ticks * 1000) / ticksPerSecond
}

export interface ServerCpu {
  /** The postmaster's pid, or null when the cluster's processes cannot be read here. */
  postmasterPid: number | null
  /** CPU ms so far of the whole cluster (null: not readable). */
  readMs(): number | null
}

/**
 * Finds the cluster behind `url` on this machine: the backend of a connection of ours is a
 * process whose title names our client's port ("postgres: user db 127.0.0.1(PORT) idle"),
 * and its parent is the postmaster. Anything else (a remote server, a container, process
 * titles turned off) gives postmasterPid null and readMs() null: the bench prints n/a.
 */
export async function findServerCpu(url: string): Promise<ServerCpu> {
  const none: ServerCpu = { postmasterPid: null, readMs: () => null }
  if (process.platform !== 'linux') return none
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const backend = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)
    const socket = (client as unknown as { connection: { stream: { localPort?: number } } }).connection.stream
    let title: string
    try {
      title = readFileSync(`/proc/${backend}/cmdline`, 'utf8')
    } catch {
      return none
    }
    const ours = socket.localPort ? title.includes(`(${socket.localPort})`) : title.includes('[local]')
    const postmaster = procStat(backend)?.ppid
    if (!ours || !postmaster || postmaster <= 1) return none
    return { postmasterPid: postmaster, readMs: () => processTreeCpuMs(postmaster) }
  } finally {
    await client.end()
  }
}

/** CPU ms used by this process so far, every thread (the renewer thread too). */
export function processCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

export interface CpuPerAcquisition {
  /** The Node process(es) running the loops, ms per acquisition. */
  clientCpuMsPerAcquisition: number
  /** The PostgreSQL cluster (all its processes), ms per acquisition; null when not readable here. */
  serverCpuMsPerAcquisition: number | null
  totalCpuMsPerAcquisition: number | null
}

export function perAcquisition(clientMs: number, serverMs: number | null, acquisitions: number): CpuPerAcquisition {
  const per = (ms: number) => Number((ms / Math.max(1, acquisitions)).toFixed(3))
  return {
    clientCpuMsPerAcquisition: per(clientMs),
    serverCpuMsPerAcquisition: serverMs === null ? null : per(serverMs),
    totalCpuMsPerAcquisition: serverMs === null ? null : per(clientMs + serverMs),
  }
}
