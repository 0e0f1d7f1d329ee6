import { describe, expect, it } from 'vitest'
import { LeaseTable, SegmentReader, segmentSlots } from '../../src/lease/lease-table.js'
import { TrustWindow } from '../../src/lease/trust-window.js'
import type { AcquireRow } from '../../src/sql/acquire.js'

const id = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'

/** A renew answer: the lease expires `ttlMs` from a database now of `at`. */
function answer(at: number, ttlMs: number): AcquireRow {
  const none = { lease_id: id, fencing_token: '1', waiter_id: null, ticket: null, names: [], missing: [], next_expiry: null }
  return { status: 'acquired', ...none, expires_at: new Date(at + ttlMs), db_now: new Date(at) }
}

describe('the lease table', () => {
  it('gives the renewer thread a lease put into it: its id, ttl, owner, first renewal and trust window', () => {
    const table = new LeaseTable()
    const trust = new TrustWindow()
    trust.extend(answer(1_000, 5_000), 10_000, 5_000)
    const entry = table.put(7, id, 5_000, 12_345.5, trust)
    const reader = new SegmentReader(table.segments[0]!.buffer)
    expect(reader.generation(entry.slot)).toBe(entry.generation)
    expect(entry.generation % 2).toBe(1)
    expect(reader.dueAt(entry.slot)).toBe(12_345.5)
    const lease = reader.claim(entry.slot, entry.generation)!
    expect({ owner: lease.owner, id: lease.id, ttlMs: lease.ttlMs }).toEqual({ owner: 7, id, ttlMs: 5_000 })
    expect(lease.trust.expiresAt()).toEqual(trust.expiresAt())
    // One window, two threads: what the thread's renewal writes, the holder reads.
    lease.trust.extend(answer(2_000, 5_000), 11_000, 5_000)
    expect(trust.expiresAt()).toEqual(new Date(7_000))
  })

  it('takes the trust window back out at release, so a late answer of the thread changes nothing for the lease', () => {
    const table = new LeaseTable()
    const trust = new TrustWindow()
    trust.extend(answer(1_000, 5_000), 10_000, 5_000)
    const entry = table.put(1, id, 5_000, 0, trust)
    const lease = new SegmentReader(table.segments[0]!.buffer).claim(entry.slot, entry.generation)!
    table.free(entry, trust)
    expect(table.holds(entry)).toBe(false)
    lease.trust.extend(answer(9_000, 5_000), 19_000, 5_000)
    expect(trust.expiresAt()).toEqual(new Date(6_000))
  })

  it('no longer hands the thread a lease freed before the thread claimed it', () => {
    const table = new LeaseTable()
    const trust = new TrustWindow()
    const entry = table.put(1, id, 5_000, 0, trust)
    const reader = new SegmentReader(table.segments[0]!.buffer)
    table.free(entry, trust)
    expect(reader.claim(entry.slot, entry.generation)).toBeUndefined()
    // The claim that failed is let go of: the slot takes the next lease.
    expect(table.put(1, id, 5_000, 0, new TrustWindow()).slot).toBe(entry.slot)
  })

  it('does not reuse a slot the thread still claims, until the thread lets go of it', () => {
    const table = new LeaseTable()
    const first = table.put(1, id, 5_000, 0, new TrustWindow())
    const reader = new SegmentReader(table.segments[0]!.buffer)
    expect(reader.claim(first.slot, first.generation)).toBeDefined()
    table.free(first, new TrustWindow())
    const second = table.put(1, id, 5_000, 0, new TrustWindow())
    expect(second.slot).not.toBe(first.slot)
    reader.unclaim(first.slot)
    table.free(second, new TrustWindow())
    // Both free now; the one the thread let go of is found again.
    const slots = [table.put(1, id, 5_000, 0, new TrustWindow()).slot, table.put(1, id, 5_000, 0, new TrustWindow()).slot]
    expect(slots.sort()).toEqual([first.slot, second.slot].sort())
    expect(table.put(1, id, 5_000, 0, new TrustWindow()).slot).toBe(2)
  })

  it('grows by a segment when every slot is taken, and says so once', () => {
    const table = new LeaseTable()
    const entries = Array.from({ length: segmentSlots }, () => table.put(1, id, 5_000, 0, new TrustWindow()))
    expect(entries.some((e) => 'added' in e)).toBe(false)
    const next = table.put(1, id, 5_000, 0, new TrustWindow())
    expect(next.slot).toBe(segmentSlots)
    expect(next.added?.buffer).toBe(table.segments[1]!.buffer)
    expect('added' in table.put(1, id, 5_000, 0, new TrustWindow())).toBe(false)
  })

  it('ignores a stale release: a lease freed twice frees only its own slot', () => {
    const table = new LeaseTable()
    const trust = new TrustWindow()
    const first = table.put(1, id, 5_000, 0, trust)
    table.free(first, trust)
    const second = table.put(2, id, 5_000, 0, new TrustWindow())
    expect(second.slot).toBe(first.slot)
    table.free(first, trust)
    expect(table.holds(second)).toBe(true)
  })
})
