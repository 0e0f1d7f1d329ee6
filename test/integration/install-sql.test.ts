import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestSchema, type TestSchema } from '../helpers/test-schema.js'

// migrate() installs the SQL functions (and views) in their current form over whatever an
// earlier version installed: in place where it can, anew where it must, rights kept.
describe('installing the SQL sources over an earlier version', () => {
  let t: TestSchema
  const worker = () => `${t.schema}_worker`
  const resultOf = async (fn: string) =>
    (
      await t.query<{ result: string }>(
        'SELECT pg_get_function_result(oid) AS result FROM pg_proc WHERE pronamespace = $1::regnamespace AND proname = $2',
        [t.schema, fn],
      )
    ).map((r) => r.result)
  const asWorker = async (text: string) => {
    const client = await t.sql.connect()
    try {
      await client.query(`SET ROLE "${worker()}"`)
      return (await client.query(text)).rows
    } finally {
      await client.query('RESET ROLE')
      client.release()
    }
  }

  beforeAll(async () => {
    t = await createTestSchema()
    await t.sql.query(`CREATE ROLE "${worker()}"`)
    await t.coordinator().grant({ worker: worker() })
  })
  afterAll(async () => {
    await t.cleanup()
    await t.sql.query(`DROP ROLE IF EXISTS "${worker()}"`).catch(() => {})
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
    await t.query(`DELETE FROM settings WHERE key = 'installed_sql_sha256'`)

    const result = await t.coordinator().migrate()
    expect(result.functions).toContain('release')
    expect(await resultOf('release')).toEqual(release)
    expect(await resultOf('_check_name')).toEqual(checkName)
    expect(await resultOf('leftover')).toEqual([])
    expect(await asWorker(`SELECT "${t.schema}".release(gen_random_uuid()) AS released`)).toEqual([{ released: false }])
    await expect(asWorker(`SELECT "${t.schema}"._grant_waiters('{x}')`)).rejects.toMatchObject({ code: '42501' })
    expect((await t.coordinator().migrate()).functions).toEqual([])
  })
})
