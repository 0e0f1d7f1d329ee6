import type pg from 'pg'

export interface InvariantReport {
  acquisitions: number
  /** Leases ended by release, expiry or revocation. */
  ends: number
  /** Acquisitions that found a concurrency limit with fewer free slots than they took. */
  overAdmitted: Array<{ limit: string; held: number; slots: number; at: Date }>
  /** Fencing tokens acquired more than once. */
  duplicateTokens: string[]
  /** Tokens whose lease ended more than once, or ended without having been acquired. */
  badEnds: string[]
  /** Tokens acquired but never released, expired or revoked (and not live now). */
  unaccounted: string[]
  /** Waits that were queued but neither granted nor cancelled, and no waiter row is left for. */
  lostWaits: number
  /** Waiters still waiting (not granted). */
  pendingWaiters: number
}

interface EventRow {
  kind: string
  names: string[]
  occupy: number
  token: string | null
  at: Date
  wait: number | null
  slots: number | null
  active: boolean | null
}

/**
 * Replays the event log in database-time order — events are stamped with clock_timestamp()
 * while the limit rows are locked, so per limit this is the serialisation order — and checks
 * that no concurrency limit ever admitted beyond the `slots` in force at that moment (limit
 * changes are events too), no fencing token was granted twice, every lease ended exactly
 * once or is still live, and every queued wait ended. `slotsOf` covers limits whose history
 * is not in the log.
 */
export async function checkInvariants(
  query: (text: string) => Promise<pg.QueryResultRow[]>,
  slotsOf: Record<string, number> = {},
): Promise<InvariantReport> {
  const events = (await query(
    `SELECT kind, names, occupy, fencing_token::text AS token, at, wait_seconds AS wait, slots, active
     FROM event_log ORDER BY at, id`,
  )) as EventRow[]
  const live = new Set(((await query('SELECT fencing_token::text AS token FROM leases')) as Array<{ token: string }>).map((r) => r.token))
  const pendingWaiters = Number(((await query('SELECT count(*)::int AS n FROM waiters WHERE lease_id IS NULL')) as Array<{ n: number }>)[0]!.n)

  const limits = new Map<string, { slots: number; active: boolean }>(
    Object.entries(slotsOf).map(([name, slots]) => [name, { slots, active: true }]),
  )
  const held = new Map<string, number>()
  const open = new Map<string, { counted: string[]; occupy: number }>()
  const seen = new Set<string>()
  let queued = 0
  let waitsEnded = 0
  const report: Omit<InvariantReport, 'lostWaits' | 'pendingWaiters'> = {
    acquisitions: 0,
    ends: 0,
    overAdmitted: [],
    duplicateTokens: [],
    badEnds: [],
    unaccounted: [],
  }
  for (const e of events) {
    switch (e.kind) {
      case 'limit_changed':
        limits.set(e.names[0]!, { slots: e.slots!, active: e.active! })
        break
      case 'limit_deleted':
        limits.delete(e.names[0]!)
        held.delete(e.names[0]!)
        break
      case 'queued':
        queued++
        break
      case 'cancelled':
        waitsEnded++
        break
      case 'acquired': {
        report.acquisitions++
        if (e.wait !== null && e.wait > 0) waitsEnded++
        if (seen.has(e.token!)) report.duplicateTokens.push(e.token!)
        seen.add(e.token!)
        // Like the database, count the lease only against limits that are active now.
        const counted = e.names.filter((name) => limits.get(name)?.active !== false)
        open.set(e.token!, { counted, occupy: e.occupy })
        for (const name of counted) {
          const now = (held.get(name) ?? 0) + e.occupy
          held.set(name, now)
          const slots = limits.get(name)?.slots
          if (slots !== undefined && now > slots) report.overAdmitted.push({ limit: name, held: now, slots, at: e.at })
        }
        break
      }
      case 'released':
      case 'expired':
      case 'revoked': {
        report.ends++
        const lease = open.get(e.token!)
        if (!lease) {
          report.badEnds.push(e.token!)
          break
        }
        open.delete(e.token!)
        for (const name of lease.counted) if (held.has(name)) held.set(name, held.get(name)! - lease.occupy)
        break
      }
    }
  }
  report.unaccounted = [...open.keys()].filter((token) => !live.has(token))
  return { ...report, lostWaits: queued - waitsEnded - pendingWaiters, pendingWaiters }
}

/** Every broken invariant in a report, one line each; empty when the run was clean. */
export function violations(report: InvariantReport): string[] {
  return [
    ...report.overAdmitted.map((o) => `over-admitted ${o.limit}: ${o.held} held of ${o.slots} at ${o.at.toISOString()}`),
    ...report.duplicateTokens.map((t) => `fencing token ${t} granted twice`),
    ...report.badEnds.map((t) => `lease ${t} ended twice or without an acquisition`),
    ...report.unaccounted.map((t) => `lease ${t} neither ended nor live`),
    ...(report.lostWaits !== 0 ? [`${report.lostWaits} queued waits never ended`] : []),
  ]
}
