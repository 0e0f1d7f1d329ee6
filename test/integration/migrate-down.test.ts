import { fileURLToPath } from 'node:url'
import { runner } from 'node-pg-migrate'
import { describe, expect, it } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'

describe('the down migration', () => {
  const t = useTestSchema()

  it('removes what migrate() made, functions and views too, and migrate() makes it again', async () => {
    const client = await t.sql.connect()
    try {
      const silent = () => {}
      await runner({
        dbClient: client,
        dir: fileURLToPath(new URL('../../migrations/', import.meta.url)),
        schema: t.schema,
        migrationsTable: 'pgslots_migrations',
        direction: 'down',
        count: Number.POSITIVE_INFINITY,
        singleTransaction: true,
        logger: { debug: silent, info: silent, warn: silent, error: silent },
      })
      await client.query('RESET search_path')
    } finally {
      client.release()
    }
    const left = await t.query<{ name: string }>(
      `SELECT relname AS name FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'v', 'S', 'c')
       UNION ALL SELECT proname FROM pg_proc WHERE pronamespace = $1::regnamespace
       UNION ALL SELECT typname FROM pg_type WHERE typnamespace = $1::regnamespace AND typtype = 'd' ORDER BY 1`,
      [t.schema],
    )
    expect(left.map((r) => r.name)).toEqual(['pgslots_migrations', 'pgslots_migrations_id_seq'])
    expect((await t.coordinator().migrate()).views).toContain('limit_status')
  })
})
