import { readFileSync } from 'node:fs'
import pg from 'pg'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'

interface Panel {
  title: string
  targets?: Array<{ rawSql: string }>
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../grafana/dashboards/pgslots.json', import.meta.url), 'utf8'),
) as { panels: Panel[]; templating: { list: Array<{ name: string; query: string }> } }
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.rawSql] as const))

/** Grafana's macros, expanded as its Postgres data source does. */
function expandMacros(sql: string, schema: string): string {
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, "$1 BETWEEN now() - interval '6 hours' AND now()")
    .replace(/"\$\{schema\}"\./g, `"${schema}".`)
}

describe('Grafana dashboard', () => {
  const t = useTestSchema()
  beforeAll(async () => {
    const slots = t.coordinator()
    await slots.limits.create('gpu:dash', { slots: 1 })
    await slots.acquire('gpu:dash') // a holder,
    void slots.acquire('gpu:dash', { timeoutMs: 60_000 }).catch(() => {}) // a waiter (ends with cleanup),
    await new Promise((r) => setTimeout(r, 200))
    await slots.tryAcquire('gpu:dash') // and a denial; a template, and a used-up rate limit
    await slots.limits.create('gpu:*', { slots: 1 })
    await slots.limits.create('api:dash', { slots: 2, slotDecayPerSecond: 0.01 })
    await slots.rateLimit('api:dash', { occupy: 2 })
  })

  it('reads only the views, never the tables, in the schema its variable names', () => {
    expect(queries.length).toBeGreaterThanOrEqual(7)
    for (const [, sql] of queries) {
      expect(sql).not.toMatch(/\.(limits|leases|waiters|history|settings)\b/)
      // Every relation is qualified by the variable; no schema name is written in.
      expect(sql).not.toMatch(/\bpgslots\./)
      expect(sql).toMatch(/FROM "\$\{schema\}"\./)
    }
    expect(dashboard.templating.list).toEqual([expect.objectContaining({ name: 'schema', query: 'pgslots' })])
  })

  it('logs in as the reader role the compose setup creates, and every panel runs as a reader', async () => {
    const datasource = readFileSync(new URL('../../grafana/provisioning/datasources/pgslots.yml', import.meta.url), 'utf8')
    const user = /^\s*user: (\S+)$/m.exec(datasource)?.[1]
    expect(user).toBe('grafana')
    const init = readFileSync(new URL('../../grafana/postgres-init/grafana-reader.sql', import.meta.url), 'utf8')
    expect(init).toMatch(new RegExp(`CREATE ROLE ${user} LOGIN`))
    const role = await t.loginRole('grafana')
    const asReader = new pg.Pool({ connectionString: role.url, max: 1 })
    try {
      await t.coordinator().grant({ reader: role.name })
      for (const [title, sql] of queries) {
        await expect(asReader.query(expandMacros(sql, t.schema)), title).resolves.toBeDefined()
      }
    } finally {
      await asReader.end()
    }
  })

  it('lists limits without templates, with rate limit buckets', async () => {
    const limits = await t.query(expandMacros(queries.find(([name]) => name === 'Limits')![1], t.schema))
    expect(limits.map((l) => l.name)).toEqual(['api:dash', 'gpu:dash'])
    expect(limits[0]).toMatchObject({ free: 0 })
    expect(Number(limits[0]!.bucket_used)).toBeGreaterThan(1.9)
    expect(limits[0]!.bucket_frees_at).toBeInstanceOf(Date)
    expect(limits[1]).toMatchObject({ bucket_used: null, bucket_frees_at: null })
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
