import { sql } from 'kysely'
import type { Coordinator } from '../coordinator.js'
import { checkKnownKeys, invalid } from '../validate.js'

/** What the connected role may do from the page (only asked when the page runs with admin). */
export interface AdminRights {
  /** put_limit: enable, disable, change slots. */
  limits: boolean
  revoke: boolean
}

/** Asks PostgreSQL, so the page offers only what the database would allow. */
export async function readAdminRights(slots: Coordinator): Promise<AdminRights> {
  const { rows } = await sql<{ proname: string; may: boolean }>`
    SELECT p.proname, has_function_privilege(p.oid, 'EXECUTE') AS may
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${slots.schema} AND p.proname IN ('put_limit', 'revoke')`.execute(slots.db)
  const may = (name: string) => rows.some((r) => r.proname === name && r.may)
  return { limits: may('put_limit'), revoke: may('revoke') }
}

/** One admin request from the page: the body of POST /api/limit or POST /api/revoke. */
export async function runAdminAction(slots: Coordinator, action: string, body: unknown): Promise<unknown> {
  if (body === null || typeof body !== 'object') invalid('body', 'must be a JSON object', body)
  const b = body as Record<string, unknown>
  if (action === 'limit') {
    checkKnownKeys('body', b, ['name', 'slots', 'active'])
    if (typeof b.name !== 'string') invalid('name', 'must be a string', b.name)
    const settings = {
      ...(b.slots === undefined ? {} : { slots: b.slots as number }),
      ...(b.active === undefined ? {} : { active: b.active as boolean }),
    }
    const info = await slots.limits.update(b.name, settings)
    return { name: info.name, slots: info.slots, active: info.active }
  }
  if (action === 'revoke') {
    checkKnownKeys('body', b, ['fencingToken'])
    if (typeof b.fencingToken !== 'string' && typeof b.fencingToken !== 'number') invalid('fencingToken', 'must be a string', b.fencingToken)
    return { revoked: await slots.leases.revoke(b.fencingToken) }
  }
  return invalid('action', 'must be limit or revoke', action)
}
