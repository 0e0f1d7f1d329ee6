// What renewing from a worker thread costs (renewIn 'thread', the default) against renewing
// on the event loop: memory, connections and CPU per renewal of a process holding 200 leases.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Coordinator } from '../../src/index.js'

export interface RenewerResult {
  mode: 'thread' | 'event-loop'
  leases: number
  rssMb: number
  connections: number
  cpuMsPerRenewal: number
  lost: number
}

export async function renewerCost(url: string, schema: string, slots: Coordinator, mode: RenewerResult['mode'], seconds: number): Promise<RenewerResult> {
  const leases = 200
  const limit = `bench:renewer-${mode}`
  await slots.limits.upsert(limit, { slots: leases })
  const script = fileURLToPath(new URL('../renewer-holder.js', import.meta.url))
  const child = spawn(process.execPath, [script, JSON.stringify({ url, schema, limit, mode, leases, seconds })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk) => (out += chunk))
  await new Promise((resolve) => child.once('close', resolve))
  return { mode, leases, ...(JSON.parse(out.split('\n')[0]!) as Omit<RenewerResult, 'mode' | 'leases'>) }
}
