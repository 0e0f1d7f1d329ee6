import pg from 'pg'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Coordinator } from '../../src/index.js'
import { useTestSchema } from '../helpers/test-schema.js'

describe('database roles (real LOGIN roles)', () => {
  const t = useTestSchema()
  let owner: Coordinator
  const logins = new Map<string, { name: string; url: string }>()
  const role = (kind: string) => logins.get(kind)!.name
  const urlFor = (kind: string) => logins.get(kind)!.url
  const as = async <T>(kind: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: urlFor(kind) })
    await client.connect()
    try {
      return await fn(client)
    } finally {
      await client.end()
    }
  }
  const denied = { code: '42501' } // insufficient_privilege

  beforeAll(async () => {
    owner = t.coordinator()
    for (const kind of ['worker', 'reader', 'admin', 'stranger']) logins.set(kind, await t.loginRole(kind))
    await owner.grant({ worker: role('worker'), reader: role('reader'), admin: role('admin') })
    await owner.limits.create('gpu', { slots: 1 })
  })

  it('lets a worker acquire, wait, renew and release through the library, and nothing else', async () => {
    const worker = t.coordinator({ connectionString: urlFor('worker') })
    const lease = await worker.acquire('gpu', { ttlMs: 5000 })
    const waiting = worker.acquire('gpu', { timeoutMs: 10_000 })
    await lease.renew()
    await lease.release()
    await (await waiting).release()
    expect(await worker.reap()).not.toBeUndefined()
    await expect(worker.limits.create('mine', { slots: 5 })).rejects.toMatchObject(denied)
    await expect(worker.leases.revoke(1)).rejects.toMatchObject(denied)
    await expect(worker.leases.list()).rejects.toMatchObject(denied)
    await as('worker', async (c) => {
      await expect(c.query(`UPDATE "${t.schema}".limits SET slots = 100`)).rejects.toMatchObject(denied)
      await expect(c.query(`SELECT id FROM "${t.schema}".leases`)).rejects.toMatchObject(denied)
      await expect(c.query(`SELECT * FROM "${t.schema}".limit_status`)).rejects.toMatchObject(denied)
      await expect(c.query(`SELECT "${t.schema}"._grant_waiters(ARRAY['gpu'])`)).rejects.toMatchObject(denied)
    })
  })

  it('lets a worker granted before release_with_grants existed release with plain release', async () => {
    await t.query(`REVOKE EXECUTE ON FUNCTION release_with_grants(uuid, integer) FROM "${role('worker')}"`)
    try {
      const worker = t.coordinator({ connectionString: urlFor('worker') })
      const lease = await worker.acquire('gpu', { ttlMs: 5000 })
      const waiting = worker.acquire('gpu', { timeoutMs: 10_000 })
      expect(await lease.release()).toBe(true)
      const next = await waiting
      expect(await next.release()).toBe(true)
      expect(await t.count("leases WHERE 'gpu' = ANY (counted)")).toBe(0)
    } finally {
      await t.query(`GRANT EXECUTE ON FUNCTION release_with_grants(uuid, integer) TO "${role('worker')}"`)
    }
  })

  it('does not let anyone release a lease without its id', async () => {
    const holder = await owner.acquire('gpu')
    await as('worker', async (c) => {
      const other = await c.query(`SELECT "${t.schema}".release(gen_random_uuid()) AS released`)
      expect(other.rows[0].released).toBe(false)
    })
    expect((await owner.limits.get('gpu')).activeSlots).toBe(1)
    await holder.release()
  })

  it('lets a reader SELECT the views only', async () => {
    await as('reader', async (c) => {
      const status = await c.query(`SELECT name, slots, used FROM "${t.schema}".limit_status`)
      expect(status.rows).toEqual([{ name: 'gpu', slots: 1, used: 0 }])
      for (const view of ['active_leases', 'waiting', 'events', 'stats_per_minute']) {
        await c.query(`SELECT * FROM "${t.schema}".${view} LIMIT 1`)
      }
      await expect(c.query(`SELECT * FROM "${t.schema}".leases`)).rejects.toMatchObject(denied)
      await expect(
        c.query(`SELECT * FROM "${t.schema}".acquire(ARRAY['gpu'], 1, '10 seconds')`),
      ).rejects.toMatchObject(denied)
    })
  })

  it('lets an admin manage limits and revoke', async () => {
    const admin = t.coordinator({ connectionString: urlFor('admin') })
    await admin.limits.create('admin-made', { slots: 3 })
    await admin.limits.update('gpu', { slots: 2 })
    const lease = await owner.acquire('gpu')
    expect(await admin.leases.revoke(lease.fencingToken)).toBe(true)
    expect((await admin.limits.list()).map((l) => l.name)).toEqual(['admin-made', 'gpu'])
    await admin.limits.delete('admin-made')
  })

  it('gives a role without grants nothing at all', async () => {
    await as('stranger', async (c) => {
      await expect(
        c.query(`SELECT * FROM "${t.schema}".acquire(ARRAY['gpu'], 1, '10 seconds')`),
      ).rejects.toMatchObject(denied)
      await expect(c.query(`SELECT * FROM "${t.schema}".limit_status`)).rejects.toMatchObject(denied)
    })
  })
})
