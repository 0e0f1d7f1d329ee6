import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromDatabaseError } from '../../src/errors.js'
import type { Coordinator, Lease } from '../../src/index.js'
import { type Outcome, SlotsModel } from '../helpers/slots-model.js'
import { type TestSchema, useTestSchema } from '../helpers/test-schema.js'

// Random command sequences run against the in-memory model and the real system; after every
// command both must agree on the answer and on every limit's counters.

const SHORT_TTL_MS = 400
const NAMES = ['a', 'b', 'c']
/** 'd*' is a template (created at the start of every run); d1 and d2 come from it on first use. */
const TEMPLATE = 'd*'

/** A lease of the real system: a Lease object, or a lease id taken through the SQL API. */
type RealLease = { lease: Lease } | { id: string; sentAt: number; answeredAt: number }

interface Real {
  slots: Coordinator
  t: TestSchema
  leases: RealLease[]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function outcomeOf(run: () => Promise<boolean>): Promise<Outcome> {
  try {
    return (await run()) ? { kind: 'granted' } : { kind: 'busy' }
  } catch (error) {
    // The SQL API raises SQLSTATEs; map them the way the library does.
    const mapped = fromDatabaseError(error) as { code?: string }
    return { kind: 'error', code: mapped.code ?? String(error) }
  }
}

/**
 * SQL-API leases are never renewed. Before a command gets near one's expiry (where the answer
 * would depend on timing), wait until all of them are certainly expired, then reap.
 */
async function settleExpiry(model: SlotsModel, real: Real, force = false): Promise<void> {
  const expiring = real.leases.flatMap((r, i) => ('id' in r && model.leases[i]!.live ? [r] : []))
  if (expiring.length === 0) return
  const soonest = Math.min(...expiring.map((r) => r.sentAt)) + SHORT_TTL_MS - 150
  if (!force && Date.now() < soonest) return
  await sleep(Math.max(...expiring.map((r) => r.answeredAt)) + SHORT_TTL_MS + 30 - Date.now())
  await real.slots.reap()
  model.expireUnrenewed()
}

async function expectSameState(model: SlotsModel, real: Real): Promise<void> {
  const limits = (await real.slots.limits.list()).map((l) => [l.name, l.slots, l.active, l.activeSlots, l.deniedSlots])
  const expected = [...model.limits].sort(([a], [b]) => a.localeCompare(b)).map(([name, l]) => [name, l.slots, l.active, l.activeSlots, l.deniedSlots])
  expect(limits).toEqual(expected)
  const [counts] = await real.t.query<{ leases: number; waiters: number }>(
    'SELECT (SELECT count(*) FROM leases)::int AS leases, (SELECT count(*) FROM waiters)::int AS waiters',
  )
  expect(counts).toEqual({ leases: model.leases.filter((l) => l.live).length, waiters: 0 })
}

/** A command: what the model predicts, what the real system does, and their comparison. */
function command(label: string, act: (model: SlotsModel, real: Real) => Promise<void>): fc.AsyncCommand<SlotsModel, Real> {
  return {
    check: () => true,
    run: async (model, real) => {
      await settleExpiry(model, real)
      await act(model, real)
      await expectSameState(model, real)
    },
    toString: () => label,
  }
}

/** What limits administration acts on: the limits, the template, and one name it covers. */
const name = fc.constantFrom(...NAMES, TEMPLATE, 'd1')
/** What requests ask for (never the template itself). */
const names = fc.uniqueArray(fc.constantFrom(...NAMES, 'd1', 'd2'), { minLength: 1, maxLength: 2 })
const occupy = fc.integer({ min: 1, max: 2 })
const slotCount = fc.integer({ min: 0, max: 3 })

const commands = [
  fc.tuple(name, slotCount).map(([n, s]) =>
    command(`create(${n}, ${s})`, async (model, real) => {
      expect(await outcomeOf(async () => !!(await real.slots.limits.create(n, { slots: s })))).toEqual(model.create(n, s))
    }),
  ),
  fc.tuple(name, slotCount).map(([n, s]) =>
    command(`update(${n}, slots ${s})`, async (model, real) => {
      expect(await outcomeOf(async () => !!(await real.slots.limits.update(n, { slots: s })))).toEqual(model.update(n, { slots: s }))
    }),
  ),
  fc.tuple(name, fc.boolean()).map(([n, on]) =>
    command(`${on ? 'enable' : 'disable'}(${n})`, async (model, real) => {
      const run = () => (on ? real.slots.limits.enable(n) : real.slots.limits.disable(n))
      expect(await outcomeOf(async () => !!(await run()))).toEqual(model.update(n, { active: on }))
    }),
  ),
  name.map((n) =>
    command(`delete(${n})`, async (model, real) => {
      expect(await outcomeOf(async () => !!(await real.slots.limits.delete(n)))).toEqual(model.delete(n))
    }),
  ),
  // A priority changes the order of waiters only; what is granted at once must not depend on it.
  fc.tuple(names, occupy, fc.boolean(), fc.constantFrom('tryAcquire', 'acquire', 'sql'), fc.integer({ min: -3, max: 3 })).map(([ns, o, strict, via, priority]) =>
    command(`${via}([${ns}], occupy ${o}, strict ${strict}, priority ${priority})`, async (model, real) => {
      const actual = await outcomeOf(async () => {
        if (via === 'sql') {
          const sentAt = Date.now()
          const [row] = await real.t.query<{ status: string; lease_id: string }>(
            `SELECT status, lease_id FROM acquire($1::text[], $2, $3::interval, '{}', false, $4, p_priority => $5)`,
            [ns, o, `${SHORT_TTL_MS} milliseconds`, strict, priority],
          )
          if (row!.status !== 'acquired') return false
          if (row!.lease_id) real.leases.push({ id: row!.lease_id, sentAt, answeredAt: Date.now() })
          return true
        }
        const lease =
          via === 'acquire'
            ? await real.slots.acquire(ns, { occupy: o, strict, priority, timeoutMs: 30 }).catch((error) => {
                if ((error as { code?: string }).code === 'PGSLOTS_ACQUIRE_TIMEOUT') return null
                throw error
              })
            : await real.slots.tryAcquire(ns, { occupy: o, strict, priority })
        if (lease && lease.fencingToken > 0n) real.leases.push({ lease })
        return lease !== null
      })
      expect(actual).toEqual(model.acquire(ns, o, strict, via === 'sql'))
    }),
  ),
  fc.tuple(fc.nat(), fc.constantFrom('release', 'revoke', 'renew')).map(([pick, how]) =>
    command(`${how}(lease #${pick})`, async (model, real) => {
      if (real.leases.length === 0) return
      const i = pick % real.leases.length
      const r = real.leases[i]!
      if (how === 'revoke') {
        const token = 'lease' in r ? r.lease.fencingToken : (await real.t.query<{ t: string }>('SELECT fencing_token::text AS t FROM leases WHERE id = $1', [r.id]))[0]?.t
        const revoked = token === undefined ? false : await real.slots.leases.revoke(token)
        expect(revoked).toBe(model.end(i))
      } else if (how === 'release' || !('lease' in r)) {
        if ('lease' in r) expect(await r.lease.release()).toBe(model.release(i))
        else expect((await real.t.query<{ release: boolean }>('SELECT release($1)', [r.id]))[0]!.release).toBe(model.end(i))
      } else {
        const live = model.leases[i]!.live
        expect(await outcomeOf(async () => !!(await r.lease.renew()))).toEqual(live ? { kind: 'granted' } : { kind: 'error', code: 'PGSLOTS_LEASE_LOST' })
      }
    }),
  ),
  fc.constant(
    command('wait for short leases to expire', async (model, real) => {
      await settleExpiry(model, real, true)
    }),
  ),
]

describe('model-based: random command sequences agree with an in-memory model', () => {
  const t = useTestSchema()
  let slots: Coordinator
  beforeAll(() => {
    slots = t.coordinator({ ttlMs: 30_000 })
  })

  it('creates, updates, deletes, acquires, releases, renews, revokes and expires like the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(slotCount, { minLength: 4, maxLength: 4 }), fc.commands(commands, { size: 'large', maxCommands: 40 }), async (initial, cmds) => {
        const real: Real = { slots, t, leases: [] }
        const model = new SlotsModel()
        try {
          // Start from three limits and the template, so that most commands meet a limit that exists.
          for (const [i, s] of initial.entries()) {
            const limit = NAMES[i] ?? TEMPLATE
            model.create(limit, s)
            await slots.limits.create(limit, { slots: s })
          }
          await fc.asyncModelRun(() => ({ model, real }), cmds)
        } finally {
          await Promise.all(real.leases.map((r) => ('lease' in r ? r.lease.release() : undefined)))
          await t.query('TRUNCATE limits, leases, waiters, history')
        }
      }),
      { numRuns: Number(process.env.PGSLOTS_MODEL_RUNS ?? 40) },
    )
  }, 300_000)
})
