import type pg from 'pg'

/** A function or a view of the schema, by name (one function per name: src/sql/README.md). */
export interface SchemaObject {
  kind: 'FUNCTION' | 'VIEW'
  name: string
}

/**
 * The rights granted on an object, as the GRANT statements that give them again to the
 * object created anew under the same name (its owner's own rights come with creating it).
 * Read them before dropping it. @internal
 */
export async function grantsOn(client: pg.PoolClient, schema: string, object: SchemaObject): Promise<string[]> {
  const acl =
    object.kind === 'FUNCTION'
      ? 'SELECT proacl AS acl, proowner AS owner FROM pg_proc WHERE pronamespace = $1::regnamespace AND proname = $2'
      : "SELECT relacl AS acl, relowner AS owner FROM pg_class WHERE relnamespace = $1::regnamespace AND relname = $2 AND relkind = 'v'"
  const rights = await client.query<{ privilege: string; grantee: string; grantable: boolean }>(
    `SELECT DISTINCT a.privilege_type AS privilege, a.is_grantable AS grantable,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee
     FROM (${acl}) AS o CROSS JOIN LATERAL aclexplode(o.acl) AS a WHERE a.grantee <> o.owner
     ORDER BY 1, 3`,
    [schema, object.name],
  )
  const target = `${object.kind === 'FUNCTION' ? 'FUNCTION' : 'TABLE'} "${schema}"."${object.name}"`
  return rights.rows.map((r) => `GRANT ${r.privilege} ON ${target} TO ${r.grantee}${r.grantable ? ' WITH GRANT OPTION' : ''}`)
}
