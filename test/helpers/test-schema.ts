import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest'
import { Coordinator, type CoordinatorOptions } from '../../src/index.js'

/** A schema of its own for a test file (or a test), migrated unless told not to, and coordinators on it that are closed at the end. */
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
}

export interface TestSchemaOptions {
  /** Run the migrations (default true); false leaves the schema to the test. */
  migrate?: boolean
  /** A new schema for every test (beforeEach/afterEach) rather than one for all of them. */
  perTest?: boolean
}

/**
 * Registers the hooks that create a test schema before the tests (beforeAll, or beforeEach
 * with `perTest`) and close its coordinators and drop it after them; returns the schema,
 * usable in the hooks and tests that run in between.
 *
 * Vitest runs `before` hooks in the order they are registered and `after` hooks in reverse
 * (`sequence.hooks: 'stack'`, its default): a hook registered after this call sees the
 * schema in place and tears down before it; one registered before it tears down after it
 * (for what its coordinators use, like pools and proxies).
 *
 * @example
 * const t = useTestSchema()
 * let slots: Coordinator
 * beforeAll(() => {
 *   slots = t.coordinator()
 * })
 * it('counts', async () => expect(await t.count('leases')).toBe(0))
 */
export function useTestSchema(options: TestSchemaOptions = {}): TestSchema {
  let current: CreatedSchema | undefined
  const [setUp, tearDown] = options.perTest ? [beforeEach, afterEach] : [beforeAll, afterAll]
  setUp(async () => {
    current = await createTestSchema(options)
  })
  tearDown(async () => {
    const done = current
    current = undefined
    await done?.cleanup()
  })
  const now = (): CreatedSchema => {
    if (!current) throw new Error(`the test schema exists only between its ${options.perTest ? 'beforeEach and afterEach' : 'beforeAll and afterAll'}`)
    return current
  }
  return {
    get url() {
      return now().url
    },
    get schema() {
      return now().schema
    },
    get sql() {
      return now().sql
    },
    coordinator: (o) => now().coordinator(o),
    query: <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) => now().query<Row>(text, values),
    count: (from, values) => now().count(from, values),
    loginRole: (suffix) => now().loginRole(suffix),
  }
}

interface CreatedSchema extends TestSchema {
  cleanup(): Promise<void>
}

async function createTestSchema(options: { migrate?: boolean }): Promise<CreatedSchema> {
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
  const created: CreatedSchema = {
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
  if (options.migrate !== false) {
    try {
      await make().migrate()
    } catch (error) {
      await created.cleanup() // no pool left open, no schema left behind
      throw error
    }
  }
  return created
}
