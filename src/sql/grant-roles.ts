import { callFunction } from './call-function.js'
import { checkKnownKeys, checkString, invalid } from '../validate.js'
import type { SqlContext } from './context.js'

/** Existing database roles to give pgslots access to (see src/sql/functions/grant_roles.sql). */
export interface RoleGrants {
  /** May acquire, take rate budget, wait, renew, release and reap. */
  worker?: string | undefined
  /** May only SELECT the dashboard views. */
  reader?: string | undefined
  /** Worker + reader, plus limits administration, revoke and SELECT on the tables. */
  admin?: string | undefined
}

/** Grants pgslots access to roles; run it as the schema owner. @internal */
export async function grantRoles(ctx: SqlContext, grants: RoleGrants): Promise<void> {
  if (grants === null || typeof grants !== 'object') invalid('grants', 'must be an object', grants)
  checkKnownKeys('grants', grants, ['worker', 'reader', 'admin'])
  for (const key of ['worker', 'reader', 'admin'] as const) {
    if (grants[key] !== undefined) checkString(key, grants[key])
  }
  if (!grants.worker && !grants.reader && !grants.admin) invalid('grants', 'name at least one of worker, reader, admin', grants)
  await callFunction(ctx.pool, ctx.schema, 'grant_roles', [grants.worker ?? null, grants.reader ?? null, grants.admin ?? null])
}
