// The leases the renewer thread may have to renew, in shared memory: the holder's thread
// writes a lease into a slot when it is granted and clears it at release, with no message;
// the renewer thread scans the table and takes up a lease only when its first renewal comes
// due, so a lease shorter than ttl/3 (most of them, under contention) costs that thread
// nothing. The memory is shared, so a holder whose event loop blocks right after acquiring
// has told the thread all it needs.
//
// One slot, 64 bytes: Int32 words 0-7, then BigInt64 cells 4-7.
//   word 0  generation: odd while a lease is in the slot; each put and free adds one
//   word 1  claim: the generation the renewer thread renews under, 0 when none. The holder's
//           thread reuses a slot only when it is 0, so no late answer of the thread writes
//           into the trust window of a later lease.
//   word 2  owner (the coordinator), word 3 ttl ms, words 4-7 the lease id (a uuid's bytes)
//   cell 4  the first renewal, monotonic µs; cells 5-6 the lease's trust window
// The holder's thread writes a slot's fields only while its generation is even; the thread
// reads them after confirming, with its claim stored, that the generation has not moved.
import { TrustWindow } from './trust-window.js'

const slotWords = 16
const slotCells = 8
const generationWord = 0
const claimWord = 1
const ownerWord = 2
const ttlWord = 3
const idWord = 4
const dueCell = 4
const trustCell = 5
/**
 * How far ahead the renewer thread takes up a lease, and the shortest time between two of its
 * scans. Below the smallest ttl/3 (ttl ≥ 100 ms): every lease is taken up before its first
 * renewal is due.
 */
export const scanMs = 25
/** Slots per segment: a segment is 16 KiB; a process that holds more leases adds segments. */
export const segmentSlots = 256

/** One segment's two views. @internal */
export class Segment {
  readonly words: Int32Array
  readonly cells: BigInt64Array

  constructor(readonly buffer = new SharedArrayBuffer(segmentSlots * slotWords * 4)) {
    this.words = new Int32Array(buffer)
    this.cells = new BigInt64Array(buffer)
  }

  generation(index: number): number {
    return Atomics.load(this.words, index * slotWords + generationWord)
  }

  /** The slot's trust window cells (the lease's own while it is in the slot). */
  trustCells(index: number): BigInt64Array {
    return this.cells.subarray(index * slotCells + trustCell, index * slotCells + trustCell + 2)
  }
}

/** A uuid as PostgreSQL prints it, as four 32-bit words, and back. */
function uuidWords(id: string): number[] {
  const hex = id.replaceAll('-', '')
  return [0, 8, 16, 24].map((at) => Number.parseInt(hex.slice(at, at + 8), 16) | 0)
}

function uuidOf(words: ArrayLike<number>): string {
  const hex = Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Where a lease sits: its slot and the generation it was put in with. @internal */
export interface TableEntry {
  slot: number
  generation: number
}

/** The holder's side: puts leases in free slots and clears them. @internal */
export class LeaseTable {
  readonly segments: Segment[] = [new Segment()]
  /** Cell 0 counts puts and frees: the thread looks at the slots again only when it moved (or a lease comes due). */
  readonly changes = new Int32Array(new SharedArrayBuffer(4))
  /** Free slots, the most recently freed last. */
  #free: number[] = []
  /** Freed slots the renewer thread still claims. */
  #claimed: number[] = []
  #next = 0

  /**
   * Puts a lease in a free slot, its trust window moved there; `added` is a segment the
   * thread does not have yet (post it before the thread can need the slot).
   */
  put(owner: number, id: string, ttlMs: number, dueAt: number, trust: TrustWindow): TableEntry & { added?: Segment } {
    const before = this.segments.length
    const slot = this.#take()
    const segment = this.#segment(slot)
    const i = slot % segmentSlots
    const base = i * slotWords
    Atomics.store(segment.words, base + ownerWord, owner)
    Atomics.store(segment.words, base + ttlWord, ttlMs)
    uuidWords(id).forEach((w, k) => Atomics.store(segment.words, base + idWord + k, w))
    Atomics.store(segment.cells, i * slotCells + dueCell, BigInt(Math.floor(dueAt * 1000)))
    trust.moveTo(segment.trustCells(i))
    // Odd from here: the thread may take it up.
    const generation = Atomics.add(segment.words, base + generationWord, 1) + 1
    Atomics.add(this.changes, 0, 1)
    const entry = { slot, generation }
    return this.segments.length > before ? { ...entry, added: this.segments.at(-1)! } : entry
  }

  /**
   * The lease leaves the slot (its trust window moved out first): the thread renews it no
   * more. True when the thread still claims the slot (it renewed the lease): it lets go at
   * its next scan, which the caller should bring forward.
   */
  free(entry: TableEntry, trust: TrustWindow): boolean {
    const segment = this.#segment(entry.slot)
    const i = entry.slot % segmentSlots
    if (segment.generation(i) !== entry.generation) return false
    trust.moveTo(new BigInt64Array(2))
    Atomics.add(segment.words, i * slotWords + generationWord, 1)
    Atomics.add(this.changes, 0, 1)
    this.#free.push(entry.slot)
    return this.#claim(entry.slot) !== 0
  }

  /** True while the lease is still in its slot. */
  holds(entry: TableEntry): boolean {
    return this.#segment(entry.slot).generation(entry.slot % segmentSlots) === entry.generation
  }

  #segment(slot: number): Segment {
    return this.segments[Math.floor(slot / segmentSlots)]!
  }

  #claim(slot: number): number {
    return Atomics.load(this.#segment(slot).words, (slot % segmentSlots) * slotWords + claimWord)
  }

  #take(): number {
    while (this.#free.length > 0) {
      const slot = this.#free.pop()!
      if (this.#claim(slot) === 0) return slot
      this.#claimed.push(slot)
    }
    // The thread lets go of a freed slot at its next scan.
    const ready = this.#claimed.findIndex((slot) => this.#claim(slot) === 0)
    if (ready >= 0) return this.#claimed.splice(ready, 1)[0]!
    if (this.#next === this.segments.length * segmentSlots) this.segments.push(new Segment())
    return this.#next++
  }
}

/** A lease as the renewer thread reads it from its slot. @internal */
export interface TableLease {
  owner: number
  id: string
  ttlMs: number
  /** Over the slot's cells. */
  trust: TrustWindow
}

/** The renewer thread's side of one segment. @internal */
export class SegmentReader {
  readonly #s: Segment

  constructor(buffer: SharedArrayBuffer) {
    this.#s = new Segment(buffer)
  }

  generation(i: number): number {
    return this.#s.generation(i)
  }

  /** Monotonic ms of the first renewal (a hint: read before the slot is claimed). */
  dueAt(i: number): number {
    return Number(Atomics.load(this.#s.cells, i * slotCells + dueCell)) / 1000
  }

  owner(i: number): number {
    return Atomics.load(this.#s.words, i * slotWords + ownerWord)
  }

  /**
   * Claims the lease of `generation` in slot i and reads it; undefined when it has left the
   * slot meanwhile. The claim is stored before the generation is read again, the holder's
   * thread moves the generation before it reads the claim: one of them sees the other.
   */
  claim(i: number, generation: number): TableLease | undefined {
    const words = this.#s.words
    const base = i * slotWords
    Atomics.store(words, base + claimWord, generation)
    if (Atomics.load(words, base + generationWord) !== generation) {
      Atomics.store(words, base + claimWord, 0)
      return undefined
    }
    const id = uuidOf([0, 1, 2, 3].map((k) => Atomics.load(words, base + idWord + k)))
    const ttlMs = Atomics.load(words, base + ttlWord)
    return { owner: this.owner(i), id, ttlMs, trust: new TrustWindow(this.#s.trustCells(i)) }
  }

  /** Lets go of slot i: no answer of the thread writes into it from now on. */
  unclaim(i: number): void {
    Atomics.store(this.#s.words, i * slotWords + claimWord, 0)
  }
}
