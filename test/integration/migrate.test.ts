import { readdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { useTestSchema } from '../helpers/test-schema.js'

describe('migrate()', () => {
  const t = useTestSchema({ migrate: false })

  it('is safe from several coordinators at once and idempotent afterwards', async () => {
    const runs = await Promise.all([1, 2, 3, 4].map(() => t.coordinator().migrate()))
    const applied = runs.flatMap((r) => r.applied)
    // Every shipped migration, each applied exactly once, in order.
    const shipped = (await readdir(new URL('../../migrations/', import.meta.url)))
      .filter((f) => f.endsWith('.sql'))
      .map((f) => f.replace(/\.sql$/, ''))
      .sort()
    expect(shipped[0]).toBe('0001_baseline')
    expect(applied).toEqual(shipped)
    // The functions and views, once: the other runs find them current.
    expect(runs.filter((r) => r.functions.includes('acquire') && r.views.includes('limit_status'))).toHaveLength(1)
    expect((await t.coordinator().migrate())).toEqual({ applied: [], functions: [], views: [] })
  })

  it('keeps its own migrations table inside its schema', async () => {
    const tables = await t.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [t.schema],
    )
    expect(tables.map((r) => r.table_name)).toEqual([
      'active_leases',
      'events',
      'history',
      'lease_history',
      'leases',
      'limit_status',
      'limits',
      'pgslots_migrations',
      'settings',
      'stats_per_minute',
      'waiters',
      'waiting',
    ])
    const publicTables = await t.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE '%migrations%'",
    )
    expect(publicTables[0]?.n).toBe(0)
  })

  it('pins search_path (callers cannot redirect table names) and generic plans on every public function', async () => {
    const unpinned = await t.query<{ proname: string }>(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = $1 AND p.proname NOT LIKE '\\_%' AND NOT coalesce(p.proconfig, '{}') @> ARRAY[$2, $3]`,
      [t.schema, `search_path=${t.schema}, pg_temp`, 'plan_cache_mode=force_generic_plan'],
    )
    expect(unpinned).toEqual([])
    const pinned = await t.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = $1 AND p.proconfig IS NOT NULL`,
      [t.schema],
    )
    expect(pinned[0]?.n).toBeGreaterThanOrEqual(11)
  })

  it('enforces the table constraints even for raw SQL', async () => {
    const bad = [
      "INSERT INTO limits (name, slots) VALUES ('', 1)",
      "INSERT INTO limits (name, slots) VALUES ('x', -1)",
      `INSERT INTO limits (name, slots) VALUES ('${'n'.repeat(201)}', 1)`,
      "INSERT INTO limits (name, slots) VALUES (E'tab\\there', 1)",
      "INSERT INTO limits (name, slots, slot_decay_per_second) VALUES ('y', 1, -0.5)",
      "INSERT INTO leases (id, fencing_token, names, counted, occupy, holder, ttl, asked_at, acquired_at, expires_at) VALUES (gen_random_uuid(), 1, '{x}', '{x}', 0, '{}', '1 minute', now(), now(), now())",
    ]
    for (const statement of bad) {
      await expect(t.query(statement), statement).rejects.toThrow()
    }
  })
})
