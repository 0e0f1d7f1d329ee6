import type pg from 'pg'

export interface InvariantReport {
  /** Leases granted (ended and live). */
  acquisitions: number
  /** Leases ended by release, expiry or revocation. */
  ends: number
  /** Grants that found a concurrency limit with fewer free slots than they took. */
  overAdmitted: Array<{ limit: string; held: number; slots: number; at: Date }>
  /** Fencing tokens granted more than once. */
  duplicateTokens: string[]
  /** Tokens whose lease ended more than once, or ended and is still live. */
  badEnds: string[]
  /** Leases that did not count against exactly the active concurrency limits they asked for. */
  miscounted: string[]
  /** Queue tickets that ended more than once (granted twice, or granted and cancelled). */
  waitsEndedTwice: string[]
  /** Waiters still waiting. */
  pendingWaiters: number
  /** Grants whose token is not above the one granted before on a limit they hold (fencing order). */
  tokensOutOfOrder: Array<{ limit: string; token: string; after: string }>
  /** Tokens clients reported being handed (each checked below). */
  clientGrants: number
  /** Tokens clients were handed that the database has no record of: an acknowledged grant lost. */
  lostGrants: string[]
  /** A client granted a token not above one it was granted before. */
  tokensBackwards: Array<{ token: string; after: string }>
  /** Limits whose active_slots is not the sum of occupy over the live leases counted against them. */
  leakedSlots: Array<{ limit: string; activeSlots: number; held: number }>
  /** WAL timelines the tokens came from (1 + the failovers they span). */
  timelines: number
}

interface LeaseRow {
  token: string
  ticket: string | null
  names: string[]
  counted: string[]
  occupy: number
  granted: Date
  ended: Date | null
  /** WAL positions (as decimal strings) at the grant and the end. */
  grantedLsn: string
  endedLsn: string | null
}

interface Step {
  lsn: bigint
  apply(): void
}

/**
 * Replays history — one row per finished lease, cancelled wait and limit change — together
 * with the live leases, in WAL order: every grant, end and limit change records where the
 * WAL stood while it held the limit rows' locks, so for each limit that order is the
 * serialisation order (wall-clock timestamps could be stepped; WAL positions keep rising
 * across a promotion, whose timeline starts where replay ended). It checks that no concurrency
 * limit ever held more than the `slots` in force at that moment, that every lease counted
 * against exactly the active concurrency limits it asked for, that no fencing token was
 * granted twice or ended twice, and that no queued wait ended twice. It checks that on every
 * limit each grant's fencing token is above the one before (across failovers too: a new
 * timeline is the token's high part), that the tokens each client was handed (`grantedTokens`,
 * one list per client, in the order it got them: one request after another) rise and are all
 * on record, and that each limit's active_slots is what its live leases hold.
 * `slotsOf` covers limits whose creation is not in history.
 */
export async function checkInvariants(
  query: (text: string) => Promise<pg.QueryResultRow[]>,
  slotsOf: Record<string, number> = {},
  grantedTokens: string[][] = [],
): Promise<InvariantReport> {
  const ended = (await query(
    `SELECT fencing_token::text AS token, ticket::text AS ticket, names, counted, occupy,
            granted_at AS granted, ended_at AS ended,
            (granted_lsn - '0/0')::text AS "grantedLsn", (ended_lsn - '0/0')::text AS "endedLsn"
     FROM history WHERE kind IN ('released', 'expired', 'revoked')`,
  )) as LeaseRow[]
  const live = (await query(
    `SELECT fencing_token::text AS token, ticket::text AS ticket, names, counted, occupy,
            acquired_at AS granted, NULL AS ended, (granted_lsn - '0/0')::text AS "grantedLsn", NULL AS "endedLsn"
     FROM leases`,
  )) as LeaseRow[]
  const changes = (await query(
    `SELECT kind, names[1] AS name, slots, active, slot_decay_per_second AS decay, ended_at AS at,
            (ended_lsn - '0/0')::text AS lsn
     FROM history WHERE kind IN ('limit_changed', 'limit_deleted')`,
  )) as Array<{ kind: string; name: string; slots: number; active: boolean; decay: number; at: Date; lsn: string }>
  const cancelled = (await query(`SELECT ticket::text AS ticket FROM history WHERE kind = 'cancelled' AND ticket IS NOT NULL`)) as Array<{
    ticket: string
  }>
  const pendingWaiters = Number(((await query('SELECT count(DISTINCT ticket)::int AS n FROM waiters')) as Array<{ n: number }>)[0]!.n)
  // One statement, one snapshot: a lease and its limit's counter change in one transaction.
  const slotCounts = (await query(
    `SELECT name AS "limit", active_slots AS "activeSlots",
            (SELECT coalesce(sum(occupy), 0) FROM leases WHERE limits.name = ANY (counted))::int AS held
     FROM limits`,
  )) as Array<{ limit: string; activeSlots: number; held: number }>

  const limits = new Map<string, { slots: number; active: boolean; decay: number }>(
    Object.entries(slotsOf).map(([name, slots]) => [name, { slots, active: true, decay: 0 }]),
  )
  const deletions = new Map<string, Date[]>()
  for (const c of changes) if (c.kind === 'limit_deleted') deletions.set(c.name, [...(deletions.get(c.name) ?? []), c.at])
  const deletedBetween = (name: string, from: Date, to: Date | null) =>
    (deletions.get(name) ?? []).some((at) => at >= from && (to === null || at <= to))

  const held = new Map<string, number>()
  const report: InvariantReport = {
    acquisitions: ended.length + live.length,
    ends: ended.length,
    overAdmitted: [],
    duplicateTokens: [],
    badEnds: [],
    miscounted: [],
    waitsEndedTwice: [],
    pendingWaiters,
    tokensOutOfOrder: [],
    clientGrants: grantedTokens.flat().length,
    lostGrants: [],
    tokensBackwards: [],
    leakedSlots: slotCounts.filter((c) => c.activeSlots !== c.held),
    timelines: new Set([...ended, ...live].map((l) => BigInt(l.token) >> 44n)).size,
  }
  const lastToken = new Map<string, bigint>()
  const steps: Step[] = changes.map((c) => ({
    lsn: BigInt(c.lsn),
    apply: () => {
      if (c.kind === 'limit_deleted') {
        limits.delete(c.name)
        held.delete(c.name)
      } else limits.set(c.name, { slots: c.slots, active: c.active, decay: c.decay })
    },
  }))
  for (const lease of [...ended, ...live]) {
    steps.push({
      lsn: BigInt(lease.grantedLsn),
      apply: () => {
        // What the database should have counted: the active concurrency limits it asked for
        // (a limit deleted while the lease lived was taken off its row).
        const expected = lease.names.filter((name) => {
          const limit = limits.get(name)
          return limit !== undefined && limit.active && limit.decay === 0 && !deletedBetween(name, lease.granted, lease.ended)
        })
        if ([...expected].sort().join('\0') !== [...lease.counted].sort().join('\0')) report.miscounted.push(lease.token)
        const token = BigInt(lease.token)
        for (const name of lease.counted) {
          const last = lastToken.get(name)
          if (last !== undefined && token <= last) report.tokensOutOfOrder.push({ limit: name, token: lease.token, after: String(last) })
          lastToken.set(name, token)
          const now = (held.get(name) ?? 0) + lease.occupy
          held.set(name, now)
          const slots = limits.get(name)?.slots
          if (slots !== undefined && now > slots) report.overAdmitted.push({ limit: name, held: now, slots, at: lease.granted })
        }
      },
    })
    if (lease.endedLsn !== null) {
      steps.push({
        lsn: BigInt(lease.endedLsn),
        apply: () => {
          for (const name of lease.counted) if (held.has(name)) held.set(name, held.get(name)! - lease.occupy)
        },
      })
    }
  }
  steps.sort((a, b) => (a.lsn < b.lsn ? -1 : a.lsn > b.lsn ? 1 : 0))
  for (const step of steps) step.apply()

  report.duplicateTokens = duplicates([...ended, ...live].map((l) => l.token))
  report.badEnds = report.duplicateTokens.filter((token) => ended.some((l) => l.token === token))
  report.waitsEndedTwice = duplicates([
    ...[...ended, ...live].flatMap((l) => (l.ticket === null ? [] : [l.ticket])),
    ...cancelled.map((c) => c.ticket),
  ])
  const known = new Set([...ended, ...live].map((l) => l.token))
  report.lostGrants = [...new Set(grantedTokens.flat())].filter((token) => !known.has(token))
  for (const tokens of grantedTokens) {
    for (let i = 1; i < tokens.length; i++) {
      if (BigInt(tokens[i]!) <= BigInt(tokens[i - 1]!)) report.tokensBackwards.push({ token: tokens[i]!, after: tokens[i - 1]! })
    }
  }
  return report
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>()
  const twice = new Set<string>()
  for (const value of values) (seen.has(value) ? twice : seen).add(value)
  return [...twice]
}

/** Every broken invariant in a report, one line each; empty when the run was clean. */
export function violations(report: InvariantReport): string[] {
  return [
    ...report.overAdmitted.map((o) => `over-admitted ${o.limit}: ${o.held} held of ${o.slots} at ${o.at.toISOString()}`),
    ...report.duplicateTokens.map((t) => `fencing token ${t} granted twice`),
    ...report.badEnds.map((t) => `lease ${t} ended twice, or ended and still live`),
    ...report.miscounted.map((t) => `lease ${t} did not count against exactly its active concurrency limits`),
    ...report.waitsEndedTwice.map((t) => `queue ticket ${t} ended twice`),
    ...report.tokensOutOfOrder.map((o) => `fencing token ${o.token} granted on ${o.limit} after ${o.after}`),
    ...report.lostGrants.map((t) => `fencing token ${t} was handed to a client but is not on record`),
    ...report.tokensBackwards.map((o) => `a client was granted fencing token ${o.token} after ${o.after}`),
    ...report.leakedSlots.map((l) => `limit ${l.limit} counts ${l.activeSlots} active slots, its live leases hold ${l.held}`),
  ]
}
