import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestSchema, type TestSchema } from '../helpers/test-schema.js'

interface Panel {
  title: string
  targets?: Array<{ rawSql: string }>
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../grafana/dashboards/pgslots.json', import.meta.url), 'utf8'),
) as { panels: Panel[] }
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.rawSql] as const))

/** Grafana's macros, expanded as its Postgres data source does. */
function expandMacros(sql: string, schema: string): string {
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, "$1 BETWEEN now() - interval '6 hours' AND now()")
    .replace(/\bpgslots\./g, `"${schema}".`)
}

describe('Grafana dashboard', () => {
  let t: TestSchema
  beforeAll(async () => {
    t = await createTestSchema()
    const slots = t.coordinator()
    await slots.limits.create('gpu:dash', { slots: 1 })
    await slots.acquire('gpu:dash') // a holder,
    void slots.acquire('gpu:dash', { timeoutMs: 60_000 }).catch(() => {}) // a waiter (ends with cleanup),
    await new Promise((r) => setTimeout(r, 200))
    await slots.tryAcquire('gpu:dash') // and a denial
  })
  afterAll(() => t.cleanup())

  it('reads only the views, never the tables', () => {
    expect(queries.length).toBeGreaterThanOrEqual(7)
    for (const [, sql] of queries) {
      expect(sql).not.toMatch(/pgslots\.(limits|leases|waiters|history|settings)\b/)
    }
  })

  it.each(queries)('panel "%s" runs against the real schema', async (_title, sql) => {
    const rows = await t.query(expandMacros(sql, t.schema))
    expect(Array.isArray(rows)).toBe(true)
  })

  it('shows the holder, the waiter and the denial', async () => {
    const run = async (title: string) => t.query(expandMacros(queries.find(([name]) => name === title)![1], t.schema))
    expect(await run('Who holds what')).toHaveLength(1)
    expect(await run('Who waits')).toHaveLength(1)
    expect((await run('Recent events')).map((e) => e.kind)).toEqual(expect.arrayContaining(['acquired', 'queued', 'denied']))
  })
})
