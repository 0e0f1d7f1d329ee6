import { beforeAll, describe, expect, it } from 'vitest'
import {
  AcquireTimeoutError,
  type Coordinator,
  ImpossibleRequestError,
  type Lease,
  LeaseLostError,
  LimitNotFoundError,
  ValidationError,
} from '../../src/index.js'
import { runWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'

describe('leases', () => {
  const t = useTestSchema()
  let slots: Coordinator
  const warnings: string[] = []
  const usage = async (name: string) => (await slots.limits.get(name)).activeSlots

  beforeAll(() => {
    slots = t.coordinator({ onWarning: (m) => warnings.push(m) })
  })

  it('gives exactly `slots` leases to 30 concurrent tryAcquire calls from 3 OS processes', async () => {
    await slots.limits.create('race', { slots: 2 })
    const startAt = Date.now() + 1500
    const outputs = await Promise.all(
      [1, 2, 3].map(() =>
        runWorker<{ granted: string[] }>('slot-worker', {
          url: t.url,
          schema: t.schema,
          action: 'try-acquire',
          names: ['race'],
          count: 10,
          startAt,
        }),
      ),
    )
    const granted = outputs.flatMap((o) => o[0]?.granted ?? [])
    expect(granted).toHaveLength(2)
    expect(await usage('race')).toBe(2)
    const rows = await t.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM leases WHERE 'race' = ANY (names)",
    )
    expect(rows[0]?.n).toBe(2)
  })

  it('acquires several limits all-or-nothing', async () => {
    await slots.limits.create('multi:a', { slots: 1 })
    await slots.limits.create('multi:b', { slots: 1 })
    const b = await slots.acquire('multi:b')
    expect(await slots.tryAcquire(['multi:a', 'multi:b'])).toBeNull()
    expect(await usage('multi:a')).toBe(0)
    await expect(slots.acquire(['multi:a', 'multi:missing'], { strict: true })).rejects.toBeInstanceOf(
      LimitNotFoundError,
    )
    expect(await usage('multi:a')).toBe(0)
    await b.release()
    const both = await slots.acquire(['multi:b', 'multi:a'], { occupy: 1 })
    expect([...both.names]).toEqual(['multi:a', 'multi:b'])
    expect([await usage('multi:a'), await usage('multi:b')]).toEqual([1, 1])
    await both.release()
    expect([await usage('multi:a'), await usage('multi:b')]).toEqual([0, 0])
  })

  it('skips missing names with one warning when not strict', async () => {
    await slots.limits.create('half', { slots: 1 })
    warnings.length = 0
    const lease = await slots.acquire(['half', 'nowhere'])
    const again = await slots.tryAcquire(['nowhere'])
    expect([...lease.names]).toEqual(['half'])
    expect(again).not.toBeNull()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/nowhere/)
    await lease.release()
    await again?.release()
  })

  it('issues strictly increasing fencing tokens', async () => {
    await slots.limits.create('fence', { slots: 1 })
    const tokens: bigint[] = []
    for (let i = 0; i < 5; i++) {
      const lease = await slots.acquire('fence')
      tokens.push(lease.fencingToken)
      await lease.release()
    }
    expect([...tokens].sort((a, b) => (a < b ? -1 : 1))).toEqual(tokens)
    expect(new Set(tokens).size).toBe(tokens.length)
  })

  it('releases idempotently', async () => {
    await slots.limits.create('twice', { slots: 1 })
    const lease = await slots.acquire('twice')
    expect(await lease.release()).toBe(true)
    expect(await lease.release()).toBe(true)
    expect(await usage('twice')).toBe(0)
    const [row] = await t.query<{ release: boolean }>('SELECT release($1::uuid)', [lease.id])
    expect(row?.release).toBe(false)
  })

  it('never blocks on an inactive limit and counts nothing on it', async () => {
    await slots.limits.create('off', { slots: 1, active: false })
    const a = await slots.acquire('off')
    const b = await slots.acquire('off')
    expect(await usage('off')).toBe(0)
    await Promise.all([a.release(), b.release()])
  })

  it('releases on scope exit and on throw with `await using`', async () => {
    await slots.limits.create('scoped', { slots: 1 })
    {
      await using lease = await slots.acquire('scoped')
      expect(lease.fencingToken).toBeGreaterThan(0n)
      expect(await usage('scoped')).toBe(1)
    }
    expect(await usage('scoped')).toBe(0)
    const fails = async () => {
      await using _lease = await slots.acquire('scoped')
      throw new Error('work failed')
    }
    await expect(fails()).rejects.toThrow('work failed')
    expect(await usage('scoped')).toBe(0)
  })

  it('concurrency() hands the lease to the callback and releases after success and failure', async () => {
    await slots.limits.create('conc', { slots: 1 })
    const seen: Lease[] = []
    const out = await slots.concurrency('conc', async (lease) => {
      seen.push(lease)
      expect(await usage('conc')).toBe(1)
      return 42
    })
    expect(out).toBe(42)
    expect(seen[0]?.signal.aborted).toBe(false)
    expect(await usage('conc')).toBe(0)
    await expect(
      slots.concurrency('conc', () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await usage('conc')).toBe(0)
  })

  it('renews automatically past the ttl', async () => {
    await slots.limits.create('renewed', { slots: 1 })
    const lease = await slots.acquire('renewed', { ttlMs: 600 })
    const firstExpiry = lease.expiresAt.getTime()
    await new Promise((r) => setTimeout(r, 1500))
    expect(lease.signal.aborted).toBe(false)
    expect(lease.expiresAt.getTime()).toBeGreaterThan(firstExpiry)
    expect(await slots.tryAcquire('renewed')).toBeNull()
    await lease.release()
  })

  it('aborts the signal of a revoked lease before its expiresAt, and frees its slots at once', async () => {
    await slots.limits.create('revoked', { slots: 1 })
    const lease = await slots.acquire('revoked', { ttlMs: 3000 })
    const [listed] = await slots.leases.list({ limit: 'revoked' })
    expect(listed).toMatchObject({ fencingToken: lease.fencingToken, names: ['revoked'], occupy: 1 })
    expect(JSON.stringify(listed, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(lease.id)
    expect(await slots.leases.revoke(lease.fencingToken)).toBe(true)
    expect(await usage('revoked')).toBe(0)
    const reason = await new Promise<unknown>((resolve) =>
      lease.signal.addEventListener('abort', () => resolve(lease.signal.reason), { once: true }),
    )
    const [now] = await t.query<{ now: Date }>('SELECT clock_timestamp() AS now')
    expect(reason).toBeInstanceOf(LeaseLostError)
    expect(now!.now.getTime()).toBeLessThan(lease.expiresAt.getTime())
    await expect(lease.renew()).rejects.toBeInstanceOf(LeaseLostError)
    expect(await slots.leases.revoke(lease.fencingToken)).toBe(false)
  })

  it('produces every error class for bad or impossible requests', async () => {
    await slots.limits.create('errs', { slots: 1 })
    await slots.limits.create('paused', { slots: 0 })
    await expect(slots.acquire('errs', { occupy: 2 })).rejects.toBeInstanceOf(ImpossibleRequestError)
    await expect(slots.acquire('paused', { strict: true })).rejects.toBeInstanceOf(ImpossibleRequestError)
    expect(await slots.tryAcquire('paused')).toBeNull()
    await expect(slots.acquire('nope', { strict: true })).rejects.toBeInstanceOf(LimitNotFoundError)
    const held = await slots.acquire('errs')
    await expect(slots.acquire('errs', { timeoutMs: 100 })).rejects.toBeInstanceOf(AcquireTimeoutError)
    await held.release()
    const invalid: Array<[() => Promise<unknown>, RegExp]> = [
      [() => slots.acquire('errs', { occupy: 0 }), /occupy.*0/],
      [() => slots.acquire('errs', { occupy: 1.5 }), /occupy.*1\.5/],
      [() => slots.acquire('errs', { ttlMs: 5 }), /ttlMs.*5/],
      [() => slots.acquire('errs', { timeoutMs: -1 }), /timeoutMs/],
      [() => slots.acquire('errs', { strict: 1 as never }), /strict/],
      [() => slots.acquire('errs', { occupancy: 1 } as never), /options\.occupancy/],
      [() => slots.acquire(5 as never), /names/],
      [() => slots.acquire(['ok', '']), /names\[1\]/],
      [() => slots.tryAcquire('x'.repeat(201)), /names/],
      [() => slots.leases.revoke('abc'), /fencingToken/],
    ]
    for (const [call, message] of invalid) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      )
      expect(error, String(message)).toBeInstanceOf(ValidationError)
      expect((error as Error).message).toMatch(message)
    }
  })

  it('works from plain SQL: acquire, lease_valid fencing, release', async () => {
    await slots.limits.create('sql', { slots: 1 })
    const [granted] = await t.query<{ status: string; lease_id: string; fencing_token: string }>(
      `SELECT * FROM acquire(ARRAY['sql'], 1, '30 seconds', '"psql"')`,
    )
    expect(granted?.status).toBe('acquired')
    const [busy] = await t.query<{ status: string }>(`SELECT * FROM acquire(ARRAY['sql'], 1, '30 seconds')`)
    expect(busy?.status).toBe('busy')
    const [valid] = await t.query<{ ok: boolean }>('SELECT lease_valid($1) AS ok', [granted?.fencing_token])
    expect(valid?.ok).toBe(true)
    await t.query('SELECT release($1)', [granted?.lease_id])
    const [after] = await t.query<{ ok: boolean }>('SELECT lease_valid($1) AS ok', [granted?.fencing_token])
    expect(after?.ok).toBe(false)
    await expect(t.query(`SELECT * FROM renew($1, '10 seconds')`, [granted?.lease_id])).rejects.toMatchObject({
      code: 'PS410',
    })
  })
})
