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
  cleanup(): Promise<void>
}

export async function createTestSchema(options: { migrate?: boolean } = {}): Promise<TestSchema> {
  const url = inject('databaseUrl')
  const schema = `t_${randomBytes(5).toString('hex')}`
  const sqlPool = new pg.Pool({ connectionString: url, max: 4 })
  sqlPool.on('error', () => {})
  const coordinators: Coordinator[] = []
  const make = (o: CoordinatorOptions = {}) => {
    const c = new Coordinator({ connectionString: url, schema, reaper: false, onWarning: () => {}, ...o })
    coordinators.push(c)
    return c
  }
  if (options.migrate !== false) await make().migrate()
  return {
    url,
    schema,
    sql: sqlPool,
    coordinator: make,
    async query(text, values) {
      const client = await sqlPool.connect()
      try {
        await client.query(`SET search_path = "${schema}"`)
        return (await client.query(text, values)).rows
      } finally {
        await client.query('RESET search_path').catch(() => {})
        client.release()
      }
    },
    async cleanup() {
      await Promise.allSettled(coordinators.map((c) => c.close()))
      await sqlPool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
      await sqlPool.end()
    },
  }
}
