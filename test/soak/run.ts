// `npm run soak -- --seconds 300`: the chaos soak for a bounded time on an embedded Postgres
// of its own; writes counts and violations to test/soak/results/latest.json. Exits 1 on any
// violation.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startEmbeddedPostgres } from '../../src/embedded-postgres.js'
import { runChaos } from '../helpers/chaos.js'
import { violations } from '../helpers/invariants.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '300' } } })
const seconds = Number(values.seconds)
if (!Number.isFinite(seconds) || seconds < 5 || seconds > 3600) {
  console.error('--seconds: must be a number from 5 to 3600')
  process.exit(2)
}

const db = await startEmbeddedPostgres()
try {
  const started = new Date()
  const result = await runChaos({ db, schema: 'soak', durationMs: seconds * 1000, log: (line) => console.log(line) })
  const found = violations(result.report)
  const { overAdmitted, duplicateTokens, badEnds, miscounted, waitsEndedTwice, ...counts } = result.report
  const summary = {
    started: started.toISOString(),
    seconds,
    ...result.chaos,
    ...counts,
    worker: result.workerCounts,
    violations: found.length + result.report.pendingWaiters,
    details: { overAdmitted, duplicateTokens, badEnds, miscounted, waitsEndedTwice, lines: found, evidence: result.evidence },
  }
  const dir = fileURLToPath(new URL('../../../test/soak/results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}latest.json`, `${JSON.stringify(summary, null, 2)}\n`)
  console.log(JSON.stringify({ ...summary, details: undefined }))
  process.exitCode = summary.violations === 0 ? 0 : 1
} finally {
  await db.stop()
}
