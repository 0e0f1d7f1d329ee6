import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { Coordinator, type CoordinatorOptions } from '../../src/index.js'

/** A migrated schema of its own for one test file, and coordinators on it that are closed at the end. */
export interface TestSchema {
  url: string
  schema: string
  /** A pool for the test's own SQL (assertions). */
  sql: pg.Pool
  coordinator(options?: CoordinatorOptions): Coordinator
  /** Runs a query with search_path set to the test schema. */
  query<Row extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>
  /** `SELECT count(*) FROM <from>` in the test schema: `from` is a relation and what follows it, e.g. `"waiters WHERE queue = $1"`. */
  count(from: string, values?: unknown[]): Promise<number>
  /**
   * A new LOGIN role named `<schema>_<suffix>` (unique across the cluster, as the schema is),
   * dropped at cleanup once the schema is gone; its name and a URL that logs in as it.
   */
  loginRole(suffix: string): Promise<{ name: string; url: string }>
  cleanup(): Promise<void>
}

export async function createTestSchema(options: { migrate?: boolean } = {}): Promise<TestSchema> {
  const url = inject('databaseUrl')
  const schema = `t_${randomBytes(5).toString('hex')}`
  const sqlPool = new pg.Pool({ connectionString: url, max: 4 })
  sqlPool.on('error', () => {})
  const coordinators: Coordinator[] = []
  const roles: string[] = []
  const make = (o: CoordinatorOptions = {}) => {
    const c = new Coordinator({ connectionString: url, schema, reaper: false, onWarning: () => {}, ...o })
    coordinators.push(c)
    return c
  }
  const query = async <Row extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<Row[]> => {
    const client = await sqlPool.connect()
    try {
      await client.query(`SET search_path = "${schema}"`)
      return (await client.query<Row>(text, values)).rows
    } finally {
      await client.query('RESET search_path').catch(() => {})
      client.release()
    }
  }
  if (options.migrate !== false) await make().migrate()
  return {
    url,
    schema,
    sql: sqlPool,
    coordinator: make,
    query,
    async count(from, values) {
      return (await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from}`, values))[0]!.n
    },
    async loginRole(suffix) {
      const name = `${schema}_${suffix}`
      await sqlPool.query(`CREATE ROLE "${name}" LOGIN PASSWORD 'pw'`)
      roles.push(name)
      const login = new URL(url)
      login.username = name
      login.password = 'pw'
      return { name, url: login.toString() }
    },
    async cleanup() {
      try {
        await Promise.allSettled(coordinators.map((c) => c.close()))
        await sqlPool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
        for (const role of roles) await sqlPool.query(`DROP OWNED BY "${role}"; DROP ROLE "${role}"`)
      } finally {
        await sqlPool.end()
      }
    },
  }
}
