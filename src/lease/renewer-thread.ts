// The renewer thread: keeps this process's leases renewed, each coordinator's on a
// connection of its own, so a holder whose event loop is busy (CPU-bound work, a long
// synchronous parse) keeps its slots while the process lives. When the process dies, so
// does this thread, and the ttl frees them. The leases are in the lease table (shared
// memory, no message per lease): the thread sleeps until the first renewal it knows of comes
// due (the holder's thread rings its Alarm for a sooner one), takes up the leases due by then,
// and renews each in a RenewalLoop, the same loop the event loop runs when there is no
// thread, until it leaves its slot.
import { parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'
import type { SqlContext } from '../sql/context.js'
import { renewLease } from '../sql/renew.js'
import { scanMs, SegmentReader, segmentSlots, type TableLease } from './lease-table.js'
import { Alarm, idleScanMs } from './renewer-alarm.js'
import { RenewalLoop } from './renewal-loop.js'
import type { RenewerCommand, RenewerData, RenewerReport } from './renewer-worker.js'
import { monotonicMs } from './trust-window.js'

interface Owner {
  ctx: SqlContext
}

/** A lease taken up from slot `slot` under `generation`. */
interface Renewing {
  slot: number
  generation: number
  owner: number
  loop: RenewalLoop
  /** A renew call is under way: its answer still writes into the slot's trust window. */
  calling: boolean
  /** Renewals ended; the claim on the slot goes once no call is under way, the record once the slot's generation moves. */
  ended: boolean
}

const data = workerData as RenewerData
const owners = new Map<number, Owner>()
const segments = [new SegmentReader(data.table)]
/** By slot. */
const renewing = new Map<number, Renewing>()

parentPort!.on('message', (command: RenewerCommand) => {
  if (command.op === 'open') {
    if (owners.has(command.owner)) return
    // Connects at its first renewal; one connection per coordinator.
    const pool = new pg.Pool({ ...command.clientConfig, max: 1, idleTimeoutMillis: 30_000 })
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    owners.set(command.owner, { ctx: { pool, schema: command.schema } })
    lookAgain()
  } else if (command.op === 'segment') {
    segments.push(new SegmentReader(command.buffer))
    lookAgain()
  } else {
    const owner = owners.get(command.owner)
    owners.delete(command.owner)
    for (const r of renewing.values()) if (r.owner === command.owner) end(r)
    void owner?.ctx.pool.end().catch(() => {})
    if (command.last) {
      closing = true
      alarm.ring()
      parentPort!.close()
    }
  }
})

// Loaded: from here on the thread renews what the table holds (messages queued meanwhile included).
Atomics.store(new Int32Array(data.ready), 0, 1)

/** The table's count of changes at the last scan, and the earliest first renewal it left for later. */
const changes = new Int32Array(data.changes)
let scanned = { changes: Number.NaN, nextDueAt: Infinity }
const alarm = new Alarm(data.alarm)
let closing = false
/** A coordinator's connection or a segment is new: the next scan looks at every slot. */
let force = false

function lookAgain(): void {
  force = true
  alarm.ring()
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/**
 * Scans, then sleeps until the first renewal due (at most idleScanMs), or until rung; two
 * scans are scanMs apart at least, through a timer, so renewals, answers and messages run
 * in between however often the holders ring (a scan takes up what is due within 2 × scanMs).
 */
async function watch(): Promise<void> {
  while (!closing) {
    const seen = alarm.rings()
    const scannedAt = monotonicMs()
    scan(force)
    force = false
    const wakeAt = Math.min(scanned.nextDueAt - 2 * scanMs, scannedAt + idleScanMs)
    alarm.setFor(wakeAt)
    // A lease put after the scan read the table, before the time above was set, may not have
    // rung (its holder counts the change first, then reads the time): look again soon.
    if (Atomics.load(changes, 0) === scanned.changes) await alarm.sleep(seen, wakeAt - monotonicMs())
    await pause(scannedAt + scanMs - monotonicMs())
  }
}
void watch()

/**
 * Ends the renewals of leases that left their slots, takes up those due before the next
 * scan. Looks at the slots only when a lease was put or freed since, one it left comes due,
 * or `force`d (a coordinator's connection or a segment is new).
 */
function scan(force = false): void {
  const now = monotonicMs()
  const count = Atomics.load(changes, 0)
  if (!force && count === scanned.changes && scanned.nextDueAt > now + 2 * scanMs) return
  const takeUpBy = now + 2 * scanMs
  let nextDueAt = Infinity
  segments.forEach((segment, s) => {
    for (let i = 0; i < segmentSlots; i++) {
      const slot = s * segmentSlots + i
      const generation = segment.generation(i)
      const current = renewing.get(slot)
      if (current) {
        // The same lease (renewing, or lost and not freed yet).
        if (current.generation === generation) continue
        end(current)
        renewing.delete(slot)
      }
      if ((generation & 1) === 0 || !owners.has(segment.owner(i))) continue
      const dueAt = segment.dueAt(i)
      if (dueAt > takeUpBy) nextDueAt = Math.min(nextDueAt, dueAt)
      else {
        const lease = segment.claim(i, generation)
        if (lease) takeUp(slot, generation, lease, dueAt)
      }
    }
  })
  scanned = { changes: count, nextDueAt }
}

function takeUp(slot: number, generation: number, lease: TableLease, dueAt: number): void {
  const owner = owners.get(lease.owner)
  const segment = segments[Math.floor(slot / segmentSlots)]!
  const i = slot % segmentSlots
  if (!owner) return segment.unclaim(i)
  const r: Renewing = { slot, generation, owner: lease.owner, loop: undefined!, calling: false, ended: false }
  r.loop = new RenewalLoop({
    ttlMs: lease.ttlMs,
    trust: lease.trust,
    renewOnce: async () => {
      // Released since the last renewal: nothing more to renew (a release racing this check
      // wins in the database; the answer of this call then changes nothing on the holder's side).
      if (segment.generation(i) !== generation) {
        end(r)
        throw new Error('released')
      }
      r.calling = true
      try {
        return await renewLease(owner.ctx, lease.id, lease.ttlMs)
      } finally {
        r.calling = false
        // The loop writes the answer into the trust window right after, in this same turn;
        // the claim goes in the next one.
        if (r.ended) setImmediate(() => unclaim(r))
      }
    },
    onLost: (error) => {
      end(r)
      parentPort!.postMessage({ entry: { slot, generation }, lost: error.message } satisfies RenewerReport)
    },
  })
  renewing.set(slot, r)
  r.loop.start(dueAt)
}

/** Stops renewing `r`; lets go of its slot unless a call is under way (its answer does it then). */
function end(r: Renewing): void {
  r.ended = true
  r.loop.stop()
  if (!r.calling) unclaim(r)
}

function unclaim(r: Renewing): void {
  segments[Math.floor(r.slot / segmentSlots)]!.unclaim(r.slot % segmentSlots)
}
