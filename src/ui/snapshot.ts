import { sql } from 'kysely'
import type { Coordinator } from '../coordinator.js'

/** What every open page is sent once per interval; only views, so a reader role suffices. */
export interface UiSnapshot {
  at: string
  schema: string
  limits: UiLimit[]
  holders: UiHolder[]
  waiters: UiWaiter[]
  /** Finished leases of the last minutes, for the timeline. */
  history: UiHistory[]
  /** Per minute and limit, the last minutes (refreshed less often: see LiveFeed). */
  stats: UiStat[]
}

/**
 * A limit as the page gets it: the library's LimitInfo shape (as JSON: dates are ISO strings),
 * without the timestamps of its settings, plus what the view derives (free, utilisation).
 */
export interface UiLimit {
  name: string
  kind: 'limit' | 'template'
  active: boolean
  slots: number
  slotDecayPerSecond: number
  activeSlots: number
  deniedSlots: number
  avgSlotOccupancySeconds: number
  waiting: number
  bucketLevel: number | null
  bucketFreesAt: string | null
  free: number
  utilisation: number | null
}

export interface UiHolder {
  fencingToken: string
  names: string[]
  occupy: number
  holder: unknown
  acquiredAt: string
  ageSeconds: number
  expiresInSeconds: number
}

export interface UiWaiter {
  ticket: string
  names: string[]
  occupy: number
  holder: unknown
  priority: number
  waitingSeconds: number
}

export interface UiHistory {
  endedHow: string
  names: string[]
  fencingToken: string | null
  holder: unknown
  grantedAt: string
  endedAt: string
}

export interface UiStat {
  minute: string
  limit: string
  acquisitions: number
  waitP50: number | null
  waitP95: number | null
  denials: number
  expirations: number
}

// Bounds that keep one frame small for a page open on thousands of limits and leases.
const maxRows = 2000
export const historyMinutes = 5
export const statsMinutes = 15

const seconds = (interval: unknown) => sql<number>`extract(epoch FROM ${interval})::double precision`
const iso = (d: Date | string) => new Date(d).toISOString()

/** Limits, holders and waiters: the part of the frame read every interval. */
export async function readLive(slots: Coordinator): Promise<Pick<UiSnapshot, 'limits' | 'holders' | 'waiters' | 'history'>> {
  const db = slots.db
  // Explicit columns everywhere: the views hold no secret id, and the page never asks for one.
  const [limits, holders, waiters, history] = await Promise.all([
    db
      .selectFrom('limit_status')
      .select(['name', 'kind', 'active', 'slots', 'used', 'free', 'waiting', 'utilisation', 'denied', 'avg_occupancy_seconds', 'slot_decay_per_second', 'bucket_level', 'bucket_frees_at'])
      .orderBy('name')
      .execute(),
    db
      .selectFrom('active_leases')
      .select(['fencing_token', 'names', 'occupy', 'holder', 'acquired_at', seconds(sql.ref('age')).as('age_s'), seconds(sql.ref('expires_in')).as('expires_s')])
      .orderBy('fencing_token')
      .limit(maxRows)
      .execute(),
    // Line order: priority first, then ticket (the order grants are made in).
    db
      .selectFrom('waiting')
      .select(['ticket', 'names', 'occupy', 'holder', 'priority', seconds(sql.ref('wait_age')).as('wait_s')])
      .orderBy('priority', 'desc')
      .orderBy('ticket')
      .limit(maxRows)
      .execute(),
    db
      .selectFrom('lease_history')
      .select(['ended_how', 'names', 'fencing_token', 'holder', 'granted_at', 'ended_at'])
      .where('granted_at', 'is not', null)
      .where('ended_at', '>', sql<Date>`now() - make_interval(mins => ${historyMinutes})`)
      .orderBy('ended_at', 'desc')
      .limit(maxRows)
      .execute(),
  ])
  return {
    limits: limits.map((l) => ({
      name: l.name,
      kind: l.kind === 'template' ? 'template' : 'limit',
      active: l.active,
      slots: l.slots,
      slotDecayPerSecond: l.slot_decay_per_second,
      activeSlots: l.used,
      deniedSlots: Number(l.denied),
      avgSlotOccupancySeconds: l.avg_occupancy_seconds,
      waiting: l.waiting,
      bucketLevel: l.bucket_level === null ? null : Number(l.bucket_level),
      bucketFreesAt: l.bucket_frees_at === null ? null : iso(l.bucket_frees_at),
      free: l.free,
      utilisation: l.utilisation === null ? null : Number(l.utilisation),
    })),
    holders: holders.map((h) => ({
      fencingToken: String(h.fencing_token),
      names: h.names,
      occupy: h.occupy,
      holder: h.holder,
      acquiredAt: iso(h.acquired_at),
      ageSeconds: h.age_s,
      expiresInSeconds: h.expires_s,
    })),
    waiters: waiters.map((w) => ({
      ticket: String(w.ticket),
      names: w.names,
      occupy: w.occupy,
      holder: w.holder,
      priority: w.priority,
      waitingSeconds: w.wait_s,
    })),
    history: history.map((h) => ({
      endedHow: h.ended_how,
      names: h.names,
      fencingToken: h.fencing_token === null ? null : String(h.fencing_token),
      holder: h.holder,
      grantedAt: iso(h.granted_at!),
      endedAt: iso(h.ended_at),
    })),
  }
}

/** Per-minute stats of the last minutes, every limit. */
export async function readStats(slots: Coordinator): Promise<UiStat[]> {
  const rows = await slots.db
    .selectFrom('stats_per_minute')
    .select(['minute', 'limit_name', 'acquisitions', 'wait_p50_seconds', 'wait_p95_seconds', 'denials', 'expirations'])
    .where('minute', '>', sql<Date>`now() - make_interval(mins => ${statsMinutes})`)
    .orderBy('minute')
    .limit(maxRows * 5)
    .execute()
  return rows.map((r) => ({
    minute: iso(r.minute),
    limit: r.limit_name,
    acquisitions: Number(r.acquisitions),
    waitP50: r.wait_p50_seconds,
    waitP95: r.wait_p95_seconds,
    denials: Number(r.denials),
    expirations: Number(r.expirations),
  }))
}
