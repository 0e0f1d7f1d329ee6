// The systems compared in the contention scenario, behind one tiny interface.
import { type ChildProcess, spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import pg from 'pg'
import { freePort } from '../src/demo/embedded-postgres.js'
import type { Coordinator } from '../src/index.js'

export interface Semaphore {
  /** Takes a slot; resolves with the function that gives it back. */
  acquire(): Promise<() => Promise<void>>
  close(): Promise<void>
}

export type SystemName = 'pgslots' | 'naive' | 'redis'

export const SYSTEM_LABELS: Record<SystemName, string> = {
  pgslots: 'pgslots',
  naive: 'naive Postgres polling (10 ms)',
  redis: 'redis-semaphore (10 ms retry)',
}

export function pgslotsSemaphore(slots: Coordinator, name: string): Semaphore {
  return {
    async acquire() {
      const lease = await slots.acquire(name, { ttlMs: 30_000 })
      return async () => void (await lease.release())
    },
    close: async () => {},
  }
}

/** The naive peer: a counter row, UPDATE … WHERE used < slots, retried every 10 ms. */
export async function naiveSemaphore(url: string, connections: number): Promise<Semaphore> {
  const pool = new pg.Pool({ connectionString: url, max: connections })
  return {
    async acquire() {
      for (;;) {
        const r = await pool.query("UPDATE bench_naive SET used = used + 1 WHERE name = 'naive' AND used < slots")
        if (r.rowCount === 1) return async () => void (await pool.query("UPDATE bench_naive SET used = used - 1 WHERE name = 'naive'"))
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    },
    close: () => pool.end(),
  }
}

export async function resetNaive(url: string, slots: number): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query('CREATE TABLE IF NOT EXISTS bench_naive (name text PRIMARY KEY, used int NOT NULL, slots int NOT NULL)')
  await client.query("INSERT INTO bench_naive VALUES ('naive', 0, $1) ON CONFLICT (name) DO UPDATE SET used = 0, slots = $1", [slots])
  await client.end()
}

/** redis-semaphore's Semaphore with its default 10 ms retry interval. */
export async function redisSemaphore(port: number, slots: number, key: string): Promise<Semaphore> {
  const { Redis } = await import('ioredis')
  const { Semaphore: RedisSemaphore } = await import('redis-semaphore')
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true })
  await client.connect()
  return {
    async acquire() {
      const semaphore = new RedisSemaphore(client, key, slots, { acquireTimeout: 120_000, retryInterval: 10, lockTimeout: 30_000 })
      await semaphore.acquire()
      return () => semaphore.release()
    },
    close: async () => void client.disconnect(),
  }
}

/** A redis-server of our own on 127.0.0.1, or null (with the reason) where it is not installed. */
export async function startRedis(): Promise<{ port: number; pid: number; stop(): Promise<void> } | { missing: string }> {
  const port = await freePort()
  // Durable like PostgreSQL with fsync and synchronous_commit on: every write is fsynced
  // before the answer.
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', tmpdir()], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const started = await new Promise<string | null>((resolve) => {
    child.once('error', (error) => resolve(`redis-server not available (${error.message}); install the Debian package redis-server`))
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept') && resolve(null))
  })
  if (started) return { missing: started }
  return {
    port,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
