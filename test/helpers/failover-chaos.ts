// The failover fault for the chaos soak: a primary and a synchronous standby behind a TCP
// proxy (the clients' "virtual IP"). A failover crashes the primary, promotes the standby and
// moves the proxy to it; a new synchronous standby is then cloned from it while the chaos
// goes on, and the next failover waits for it.
import type { DatabaseFault } from './chaos.js'
import { startReplicatedPair } from './replicated-postgres.js'
import { TcpProxy } from './tcp-proxy.js'

export interface FailoverCluster {
  /** Where clients connect: the proxy, which follows the current primary. */
  url: string
  /** One failover every `everyMs` over a run of `durationMs` (none in its last 10 s, to drain). */
  failovers(durationMs: number, everyMs: number): DatabaseFault[]
  /**
   * Per failover, ms from the crash until the promoted standby took writes through the proxy,
   * and until it had a synchronous standby again.
   */
  timings: Array<{ writableMs: number; synchronousMs?: number }>
  stop(): Promise<void>
}

export async function startFailoverCluster(log: (line: string) => void = () => {}): Promise<FailoverCluster> {
  const pair = await startReplicatedPair({ synchronous: true })
  const proxy = await new TcpProxy('127.0.0.1', pair.primaryPort).start().catch(async (error) => {
    await pair.stop()
    throw error
  })
  const timings: FailoverCluster['timings'] = []
  /** The standby being cloned after the last failover; a failover starts only once it is synchronous. */
  let replacing: Promise<void> = Promise.resolve()

  const failOver = async () => {
    await replacing
    const crashed = Date.now()
    await pair.killPrimary()
    proxy.cut()
    await pair.promoteStandby()
    proxy.retarget('127.0.0.1', pair.standbyPort)
    const timing: FailoverCluster['timings'][number] = { writableMs: Date.now() - crashed }
    timings.push(timing)
    log(`failover ${timings.length}: the primary on port ${pair.standbyPort} takes writes ${timing.writableMs} ms after the crash`)
    replacing = pair.replaceStandby().then(() => {
      timing.synchronousMs = Date.now() - crashed
      log(`failover ${timings.length}: a synchronous standby again ${timing.synchronousMs} ms after the crash`)
    })
    replacing.catch(() => {}) // handled where it is awaited: the next failover, or stop()
  }

  return {
    url: proxy.url(pair.url(pair.primaryPort)),
    failovers(durationMs, everyMs) {
      const count = Math.max(0, Math.floor((durationMs - 10_000) / everyMs))
      return Array.from({ length: count }, (_, i) => ({ kind: 'failovers' as const, atMs: (i + 1) * everyMs, inject: failOver }))
    },
    timings,
    async stop() {
      try {
        await replacing
      } finally {
        await proxy.stop()
        await pair.stop()
      }
    },
  }
}
