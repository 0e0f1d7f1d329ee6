// The Markdown tables of a bench run (docs/results/bench.md, summarised in docs/performance.md).
import { type ContentionResult, type ContentionSetup, cpuWarmUpMs } from './scenarios/contention.js'
import type { FleetResult } from './run.js'
import type { CrashResult } from './scenarios/crash.js'
import type { LockedTimeResult } from './scenarios/locked-time.js'
import type { RenewerResult } from './scenarios/renewer.js'
import type { LatencyResult, WaitersResult } from './scenarios/scale.js'
import type { UncontendedResult } from './scenarios/uncontended.js'

export interface BenchResult {
  at: string
  postgres: string
  durability: string
  runs: number
  machine: string
  /** 1-minute load average at the start and the end of the run (absent in older results). */
  loadAverage?: [number, number]
  uncontended: UncontendedResult[]
  /** serverCpu: what the server CPU column counts (or why it is n/a). */
  contention: { setup: ContentionSetup; results: ContentionResult[]; skipped: string[]; serverCpu?: string }
  lockedTime: LockedTimeResult
  fleet: FleetResult
  crash: CrashResult
  waiters: WaitersResult[]
  renewer: RenewerResult[]
  limits: LatencyResult[]
}

const table = (head: string[], rows: Array<Array<string | number>>) => [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
]

/** DESIGN §9: machine CPU per contended acquisition. */
export const CPU_TARGETS = { totalMs: 1.0, nodeMs: 0.4 }

const na = (value: number | null | undefined) => (value === null || value === undefined ? 'n/a' : value)

function cpuVerdict(c: ContentionResult): string {
  const node = c.clientCpuMsPerAcquisition <= CPU_TARGETS.nodeMs ? 'Node met' : 'Node missed'
  if (c.totalCpuMsPerAcquisition === null) return `${node}, total n/a`
  return `${node}, total ${c.totalCpuMsPerAcquisition <= CPU_TARGETS.totalMs ? 'met' : 'missed'}`
}

export function markdown(r: BenchResult): string {
  const s = r.contention.setup
  return [
    `Medians of ${r.runs} runs, ${r.at}, PostgreSQL ${r.postgres} (${r.durability}), ${r.machine}` +
      (r.loadAverage ? `, load average ${r.loadAverage[0]} at the start and ${r.loadAverage[1]} at the end (other work on the machine slows every row).` : '.'),
    '',
    '**Uncontended acquire+release vs the physical limit** (raw SQL on one hot row, same run; target ≥ 0.70). ' +
      "With 1 loop also the SQL functions' own share: the same calls, with the same arguments, made directly from a pg.Pool:",
    '',
    ...table(
      ['loops', 'raw SQL cycles/s', 'pgslots cycles/s', 'ratio', 'SQL functions called directly, cycles/s'],
      r.uncontended.map((u) => [u.loops, u.rawCyclesPerSecond, u.pgslotsCyclesPerSecond, u.ratio, u.directCyclesPerSecond ?? '–']),
    ),
    '',
    `**Contention**: ${s.loops} loops, limit ${s.slots}, ${s.holdMs} ms holds, ${s.seconds} s (ideal ${(1000 / s.holdMs) * s.slots} acq/s, 100 %). ` +
      'Targets: utilisation ≥ 0.88 and ≥ redis-semaphore + 0.03, handoff p50 ≤ 0.6 ms / p99 ≤ 3 ms, max wait ≤ 2 × fair share. ' +
      `Utilisation and acq/s count the whole run; handoffs and waits count requests sent from ${cpuWarmUpMs(s) / 1000} s on, once connections are open and warm (the longest wait of a request sent before: cold-start wait max).`,
    '',
    ...table(
      ['system', 'processes', 'acq/s', 'utilisation', 'handoff p50 ms', 'handoff p99 ms', 'wait p99 ms', 'wait max ms', 'max wait / fair share', 'cold-start wait max ms', 'DB calls / acq'],
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
        c.coldStartWaitMaxMs,
        c.system.startsWith('redis') ? 'n/a (Redis)' : c.dbCallsPerAcquisition,
      ]),
    ),
    ...r.contention.skipped.map((reason) => `\nSkipped: ${reason}`),
    '',
    `**Machine CPU per contended acquisition** (the contention scenario above, from ${cpuWarmUpMs(s) / 1000} s into each run — started, connected, warm — to its end, ` +
      `÷ the acquisitions granted meanwhile; client: the Node process(es) running the loops, every thread; ` +
      `server: ${r.contention.serverCpu ?? 'the PostgreSQL cluster'}; redis-server for redis-semaphore). ` +
      `Targets: total ≤ ${CPU_TARGETS.totalMs.toFixed(1)} ms, Node ≤ ${CPU_TARGETS.nodeMs.toFixed(1)} ms.`,
    '',
    ...table(
      ['system', 'processes', 'client (Node) ms / acq', 'server ms / acq', 'total ms / acq', 'target'],
      r.contention.results.map((c) => [
        c.system,
        c.processes,
        na(c.clientCpuMsPerAcquisition),
        na(c.serverCpuMsPerAcquisition),
        na(c.totalCpuMsPerAcquisition),
        c.system === 'pgslots' ? cpuVerdict(c) : '',
      ]),
    ),
    '',
    `**Time the limit row is locked per cycle** (pg_stat_statements, cycles one at a time so no lock waits; target ≤ 0.35 ms): ` +
      `contended cycle (an acquire that queues + a release that hands the slot to it) ${r.lockedTime.contendedCycleMs} ms, ` +
      `uncontended cycle ${r.lockedTime.uncontendedCycleMs} ms.`,
    '',
    ...table(
      ['costliest statements in a contended cycle', 'ms per cycle'],
      r.lockedTime.topStatements.map((s) => [`\`${s.statement.replaceAll('|', '\\|')}\``, s.msPerCycle]),
    ),
    '',
    `**Fleet** (the 1-process contention scenario beside ${r.fleet.fleetSize} other coordinators in 5 processes, each listening and waiting on a limit of its own; target ≥ 0.9): ` +
      `${r.fleet.fleetAcquisitionsPerSecond} acq/s vs ${r.fleet.aloneAcquisitionsPerSecond} alone, ratio **${r.fleet.ratio}**, handoff p50 ${r.fleet.fleetHandoffP50Ms} ms.`,
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
    '**Renewing from a thread** (one process holding 200 leases, ttl 3 s: 200 renewals/s; `renewIn` thread is the default, so a blocked event loop keeps its leases):',
    '',
    ...table(
      ['renewIn', 'leases', 'process RSS MB', 'connections', 'CPU ms per renewal', 'leases lost'],
      r.renewer.map((x) => [x.mode, x.leases, x.rssMb, x.connections, x.cpuMsPerRenewal, x.lost]),
    ),
    '',
    '**Many limits and live leases** (acquire+release latency, 1 loop; target within 1.1× of the 10-limit case):',
    '',
    ...table(
      ['limits', 'live leases', 'p50 ms', 'p99 ms'],
      r.limits.map((l) => [l.limits, l.liveLeases, l.acquireReleaseP50Ms, l.acquireReleaseP99Ms]),
    ),
    '',
    '![contention chart](bench-chart.svg)',
    '',
  ].join('\n')
}
