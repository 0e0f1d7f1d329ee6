// The Markdown tables of a bench run (bench/results/latest.md, summarised in the README).
import type { ContentionResult, ContentionSetup } from './scenarios/contention.js'
import type { CrashResult } from './scenarios/crash.js'
import type { LatencyResult, WaitersResult } from './scenarios/scale.js'
import type { UncontendedResult } from './scenarios/uncontended.js'

export interface BenchResult {
  at: string
  postgres: string
  runs: number
  machine: string
  uncontended: UncontendedResult[]
  contention: { setup: ContentionSetup; results: ContentionResult[]; skipped: string[] }
  crash: CrashResult
  waiters: WaitersResult[]
  limits: LatencyResult[]
}

const table = (head: string[], rows: Array<Array<string | number>>) => [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
]

export function markdown(r: BenchResult): string {
  const s = r.contention.setup
  return [
    `Medians of ${r.runs} runs, ${r.at}, PostgreSQL ${r.postgres}, ${r.machine}.`,
    '',
    '**Uncontended acquire+release vs the physical limit** (raw SQL on one hot row, same run; target ≥ 0.85):',
    '',
    ...table(
      ['loops', 'raw SQL cycles/s', 'pgslots cycles/s', 'ratio'],
      r.uncontended.map((u) => [u.loops, u.rawCyclesPerSecond, u.pgslotsCyclesPerSecond, u.ratio]),
    ),
    '',
    `**Contention**: ${s.loops} loops, limit ${s.slots}, ${s.holdMs} ms holds, ${s.seconds} s (ideal ${(1000 / s.holdMs) * s.slots} acq/s, 100 %). ` +
      'Targets: ≥ 90 % utilisation, handoff p50 ≤ 0.5 ms / p99 ≤ 4 ms, max wait ≤ 2 × fair share, ≤ 3 calls per acquisition.',
    '',
    ...table(
      ['system', 'processes', 'acq/s', 'utilisation', 'handoff p50 ms', 'handoff p99 ms', 'wait p99 ms', 'wait max ms', 'max wait / fair share', 'DB calls / acq'],
      r.contention.results.map((c) => [
        c.system,
        c.processes,
        c.acquisitionsPerSecond,
        c.utilisation,
        c.handoffP50Ms,
        c.handoffP99Ms,
        c.waitP99Ms,
        c.waitMaxMs,
        c.maxWaitOverFairShare,
        c.system.startsWith('redis') ? 'n/a (Redis)' : c.dbCallsPerAcquisition,
      ]),
    ),
    ...r.contention.skipped.map((reason) => `\nSkipped: ${reason}`),
    '',
    `**Crash handoff** (holder SIGKILLed, ttl 2 s; target ≤ ttl + 100 ms): the waiter held the slot ${r.crash.killToGrantMs} ms after the kill, ` +
      `${r.crash.grantAfterExpiryMs} ms after the dead lease's expires_at (database time).`,
    '',
    '**Many waiters on one limit** (4 slots, one acquisition each, 4 processes; target: calls per grant O(1)):',
    '',
    ...table(
      ['waiters', 'processes', 'DB calls per grant', 'grants/s'],
      r.waiters.map((w) => [w.waiters, w.processes, w.dbCallsPerGrant, w.acquisitionsPerSecond]),
    ),
    '',
    '**Many limits and live leases** (acquire+release latency, 1 loop; target within 1.2× of the 10-limit case):',
    '',
    ...table(
      ['limits', 'live leases', 'p50 ms', 'p99 ms'],
      r.limits.map((l) => [l.limits, l.liveLeases, l.acquireReleaseP50Ms, l.acquireReleaseP99Ms]),
    ),
    '',
    '![contention chart](chart.svg)',
    '',
  ].join('\n')
}
