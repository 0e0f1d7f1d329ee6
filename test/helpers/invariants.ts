import type pg from 'pg'

export interface InvariantReport {
  acquisitions: number
  /** Limits whose held slots (from the events, in database time order) ever exceeded `slots`. */
  overAdmitted: Array<{ limit: string; held: number; slots: number; at: Date }>
  /** Fencing tokens acquired more than once. */
  duplicateTokens: string[]
  /** Tokens acquired but never released, expired or revoked (and not live now). */
  unaccounted: string[]
}

/**
 * Replays the events table (database timestamps) and checks that no limit was ever
 * over-admitted, no fencing token was granted twice, and every lease ended exactly once
 * or is still live. `slotsOf` gives each limit's slots for the run (assumed constant).
 */
export async function checkInvariants(
  query: (text: string) => Promise<pg.QueryResultRow[]>,
  slotsOf: Record<string, number>,
): Promise<InvariantReport> {
  const events = (await query(
    `SELECT kind, names, occupy, fencing_token::text AS token, at FROM events
     WHERE kind IN ('acquired', 'released', 'expired', 'revoked') ORDER BY at, id`,
  )) as Array<{ kind: string; names: string[]; occupy: number; token: string; at: Date }>
  const live = new Set(((await query('SELECT fencing_token::text AS token FROM leases')) as Array<{ token: string }>).map((r) => r.token))
  const held = new Map<string, number>()
  const open = new Map<string, { names: string[]; occupy: number }>()
  const seen = new Set<string>()
  const report: InvariantReport = { acquisitions: 0, overAdmitted: [], duplicateTokens: [], unaccounted: [] }
  for (const e of events) {
    if (e.kind === 'acquired') {
      report.acquisitions++
      if (seen.has(e.token)) report.duplicateTokens.push(e.token)
      seen.add(e.token)
      open.set(e.token, { names: e.names, occupy: e.occupy })
      for (const name of e.names) {
        const now = (held.get(name) ?? 0) + e.occupy
        held.set(name, now)
        const slots = slotsOf[name]
        if (slots !== undefined && now > slots) report.overAdmitted.push({ limit: name, held: now, slots, at: e.at })
      }
    } else {
      const lease = open.get(e.token)
      if (!lease) continue
      open.delete(e.token)
      for (const name of lease.names) held.set(name, (held.get(name) ?? 0) - lease.occupy)
    }
  }
  report.unaccounted = [...open.keys()].filter((token) => !live.has(token))
  return report
}
