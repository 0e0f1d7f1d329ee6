import { beforeAll, describe, expect, it } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'

// migrate() installs the SQL functions (and views) in their current form over whatever an
// earlier version installed: in place where it can, anew where it must, rights kept.
describe('installing the SQL sources over an earlier version', () => {
  const t = useTestSchema()
  // Roles of the schema (dropped with it).
  let roles: { worker: string; reader: string }
  const worker = () => roles.worker
  const reader = () => roles.reader
  const resultOf = async (fn: string) =>
    (
      await t.query<{ result: string }>(
        'SELECT pg_get_function_result(oid) AS result FROM pg_proc WHERE pronamespace = $1::regnamespace AND proname = $2',
        [t.schema, fn],
      )
    ).map((r) => r.result)
  const as = async (role: string, text: string) => {
    const client = await t.sql.connect()
    try {
      await client.query(`SET ROLE "${role}"`)
      return (await client.query(text)).rows
    } finally {
      await client.query('RESET ROLE')
      client.release()
    }
  }

  beforeAll(async () => {
    roles = { worker: (await t.loginRole('worker')).name, reader: (await t.loginRole('reader')).name }
    await t.coordinator().grant({ worker: worker(), reader: reader() })
  })

  it('recreates a function whose result type changed, with the rights granted on it, and drops leftovers', async () => {
    const release = await resultOf('release')
    const checkName = await resultOf('_check_name')
    // What an earlier version might have left: other result types, a function no file defines.
    await t.query(`DROP FUNCTION release(uuid)`)
    await t.query(`CREATE FUNCTION release(p_lease_id uuid) RETURNS text LANGUAGE sql AS $$ SELECT 'old' $$`)
    await t.query(`GRANT EXECUTE ON FUNCTION release(uuid) TO "${worker()}"`)
    await t.query(`DROP FUNCTION _check_name(text)`)
    await t.query(`CREATE FUNCTION _check_name(p_name text) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$`)
    await t.query(`CREATE FUNCTION leftover() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$`)
    await t.query(`CREATE PROCEDURE leftover_procedure() LANGUAGE sql AS $$ SELECT 1 $$`)
    await t.query(`DELETE FROM settings WHERE key = 'installed_sql_sha256'`)

    const result = await t.coordinator().migrate()
    expect(result.functions).toContain('release')
    expect(await resultOf('release')).toEqual(release)
    expect(await resultOf('_check_name')).toEqual(checkName)
    expect(await resultOf('leftover')).toEqual([])
    expect(await resultOf('leftover_procedure')).toEqual([])
    expect(await as(worker(), `SELECT "${t.schema}".release(gen_random_uuid()) AS released`)).toEqual([{ released: false }])
    await expect(as(worker(), `SELECT "${t.schema}"._grant_waiters('{x}')`)).rejects.toMatchObject({ code: '42501' })
    expect((await t.coordinator().migrate()).functions).toEqual([])
  })

  it('recreates the views when one cannot be replaced, with the rights granted on them, and drops leftovers', async () => {
    const columns = async (view: string) =>
      (
        await t.query<{ name: string }>(
          `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum`,
          [`"${t.schema}".${view}`],
        )
      ).map((r) => r.name)
    const waiting = await columns('waiting')
    const status = await columns('limit_status')
    // An earlier waiting view with other columns: CREATE OR REPLACE refuses it, so every view
    // is dropped (events together with stats_per_minute, which reads it) and created anew.
    // And a view no file defines.
    await t.query('DROP VIEW waiting')
    await t.query(`CREATE VIEW waiting AS SELECT ticket, 'old'::text AS note FROM waiters`)
    await t.query(`GRANT SELECT ON waiting TO "${reader()}"`)
    await t.query('CREATE VIEW leftover AS SELECT 1 AS one')
    await t.query(`DELETE FROM settings WHERE key = 'installed_sql_sha256'`)

    const result = await t.coordinator().migrate()
    expect(result.views).toEqual(['active_leases', 'events', 'lease_history', 'limit_status', 'stats_per_minute', 'waiting'])
    expect(await columns('waiting')).toEqual(waiting)
    expect(await columns('limit_status')).toEqual(status)
    expect(await t.query(`SELECT 1 FROM pg_class WHERE relname = 'leftover' AND relnamespace = $1::regnamespace`, [t.schema])).toEqual([])
    for (const view of result.views) {
      expect(await as(reader(), `SELECT count(*)::int AS n FROM "${t.schema}".${view}`), view).toEqual([{ n: expect.any(Number) }])
    }
    await expect(as(worker(), `SELECT * FROM "${t.schema}".waiting`)).rejects.toMatchObject({ code: '42501' })
  })
})
