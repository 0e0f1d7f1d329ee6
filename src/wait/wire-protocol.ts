import { hash, timingSafeEqual } from 'node:crypto'
import type { AcquireRow } from '../sql/acquire.js'

// The wire protocol between the database and a waiting process, in one place (the SQL
// side: _listener_channel.sql, _listener_gone.sql, _grant.sql; docs/sql-api.md).

/** The channel a listening connection hears on: its own, so a grant wakes only its process. @internal */
export function listenerChannel(pid: number): string {
  return `pgslots_${pid}`
}

/**
 * The session advisory lock a listening connection holds while it lives, as
 * `pg_advisory_lock(hashtext(key), pid)`: the database tells a dead process's waiters by it.
 * @internal
 */
export function listenerLockKey(schema: string): string {
  return `pgslots_${schema}`
}

/** The statement that takes the listener's lock, with `[listenerLockKey(schema), pid]`. @internal */
export const takeListenerLock = 'SELECT pg_advisory_lock(hashtext($1), $2)'

/**
 * A grant delivered in a NOTIFY (see _grant.sql): `ticket:fencingToken:expiresAtMs:check`.
 * A bare `ticket` only says "look again". Anyone may NOTIFY on the channel, so a grant is
 * believed only when its check — sha256 over the other fields and the secret waiter id —
 * matches; otherwise it is treated as a plain wake-up.
 * @internal
 */
export interface NotifiedGrant {
  fencingToken: string
  expiresAtMs: number
  check: string
}

/** Splits a NOTIFY payload into the ticket it is for and the grant it carries, if any. @internal */
export function parseNotification(payload: string): { ticket: string; grant: NotifiedGrant | undefined } {
  const [ticket = '', fencingToken, expiresAtMs, check] = payload.split(':')
  if (fencingToken === undefined || expiresAtMs === undefined || check === undefined) return { ticket, grant: undefined }
  return { ticket, grant: { fencingToken, expiresAtMs: Number(expiresAtMs), check } }
}

/** True when the grant was made by the database for this waiter. @internal */
export function isGrantFor(grant: NotifiedGrant, ticket: string, waiterId: string): boolean {
  // One-shot hash: no Hash object per grant.
  const expected = hash('sha256', `${ticket}:${grant.fencingToken}:${grant.expiresAtMs}:${waiterId}`, 'buffer')
  const given = Buffer.from(grant.check, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected) && /^\d+$/.test(grant.fencingToken)
}

/**
 * The lease row of a notified grant. Its id is the waiter id. Its expiry is read against
 * the database time of the request that queued the waiter (`queued.db_now`, answered after
 * that request was sent), so the lease's local trust window can only err short.
 * @internal
 */
export function grantedRow(queued: AcquireRow, grant: NotifiedGrant): AcquireRow {
  return {
    ...queued,
    status: 'acquired',
    lease_id: queued.waiter_id,
    fencing_token: grant.fencingToken,
    expires_at: new Date(grant.expiresAtMs),
    waiter_id: null,
    next_expiry: null,
  }
}
