import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../src/demo/embedded-postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

/** A Postgres container, when a Docker engine answers; null otherwise. */
async function startContainer(): Promise<{ url: string; stop: () => Promise<void> } | null> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
  } catch {
    return null
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
  const container = await new PostgreSqlContainer('postgres:17-alpine').withCommand(['postgres', '-c', 'max_connections=400']).start()
  return { url: container.getConnectionUri(), stop: async () => void (await container.stop()) }
}

/**
 * One PostgreSQL for the whole run: PGSLOTS_TEST_DATABASE_URL, else a testcontainers
 * Postgres when Docker answers, else an embedded-postgres cluster. Test files isolate
 * themselves with a schema each.
 */
export default async function setup(project: TestProject) {
  const fromEnv = process.env.PGSLOTS_TEST_DATABASE_URL
  if (fromEnv) {
    project.provide('databaseUrl', fromEnv)
    return
  }
  const server = (await startContainer()) ?? (await startEmbeddedPostgres())
  project.provide('databaseUrl', server.url)
  return () => server.stop()
}
