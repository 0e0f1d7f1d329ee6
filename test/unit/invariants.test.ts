import { describe, expect, it } from 'vitest'
import { checkInvariants, violations } from '../helpers/invariants.js'

// The checker itself, on history it is handed: the soaks only ever show it clean runs.
interface Lease {
  token: string
  granted: number
  ended?: number
  limit?: string
}

/** Answers the checker's queries from leases on one limit `a` (lsn = grant/end order) and its counter. */
function database(leases: Lease[], activeSlots = 0) {
  const row = (l: Lease) => ({
    token: l.token,
    ticket: null,
    names: [l.limit ?? 'a'],
    counted: [l.limit ?? 'a'],
    occupy: 1,
    granted: new Date(l.granted),
    ended: l.ended === undefined ? null : new Date(l.ended),
    grantedLsn: String(l.granted),
    endedLsn: l.ended === undefined ? null : String(l.ended),
  })
  const live = leases.filter((l) => l.ended === undefined)
  return async (text: string) => {
    if (text.includes("kind IN ('released'")) return leases.filter((l) => l.ended !== undefined).map(row)
    if (text.includes('FROM leases') && !text.includes('active_slots')) return live.map(row)
    if (text.includes('count(DISTINCT ticket)')) return [{ n: 0 }]
    if (text.includes('active_slots')) return [{ limit: 'a', activeSlots, held: live.length }]
    return []
  }
}

const ONE_TIMELINE_UP = 1n << 44n

describe('checkInvariants', () => {
  it('passes tokens that rise on every limit, across a timeline, handed out and on record', async () => {
    const next = String(ONE_TIMELINE_UP + 40n)
    const report = await checkInvariants(
      database([
        { token: '1', granted: 1, ended: 2 },
        { token: '3', granted: 3, ended: 4 },
        { token: '2', granted: 5, ended: 6, limit: 'b' },
        { token: next, granted: 7 },
      ], 1),
      { a: 1, b: 1 },
      [['1', '3', next]],
    )
    expect(violations(report)).toEqual([])
    expect(report.timelines).toBe(2)
  })

  it('flags a token granted below an earlier one on the same limit', async () => {
    const report = await checkInvariants(
      database([
        { token: '5', granted: 1, ended: 2 },
        { token: '4', granted: 3, ended: 4 },
      ]),
      { a: 1 },
    )
    expect(report.tokensOutOfOrder).toEqual([{ limit: 'a', token: '4', after: '5' }])
  })

  it('flags a token a client was handed that is not on record', async () => {
    const report = await checkInvariants(database([{ token: '1', granted: 1, ended: 2 }]), { a: 1 }, [['1', '2']])
    expect(report.lostGrants).toEqual(['2'])
  })

  it('flags a client granted a token below one it had before', async () => {
    const leases = [
      { token: '2', granted: 1, ended: 2 },
      { token: '1', granted: 3, ended: 4, limit: 'b' },
    ]
    const report = await checkInvariants(database(leases), { a: 1, b: 1 }, [['2', '1']])
    expect(report.tokensBackwards).toEqual([{ token: '1', after: '2' }])
  })

  it('flags a limit whose active_slots is not what its live leases hold', async () => {
    const report = await checkInvariants(database([{ token: '1', granted: 1, ended: 2 }], 1), { a: 1 })
    expect(report.leakedSlots).toEqual([{ limit: 'a', activeSlots: 1, held: 0 }])
    expect(violations(report)).toEqual(['limit a counts 1 active slots, its live leases hold 0'])
  })
})
