import type { Coordinator } from '../coordinator.js'

export type Phase = 'download' | 'wait' | 'gpu' | 'save' | 'done'

/** What one flow did, in ms since the scenario started. */
export interface FlowRecord {
  worker: string
  flow: number
  downloadStart: number
  downloadEnd: number
  gpuStart: number
  gpuEnd: number
  saveEnd: number
}

export interface PipelineOptions {
  workers: string[]
  flowsPerWorker: number
  gpuSlots: number
  /** Time scale: 2 runs twice as fast. */
  speed: number
  /** Called about every 250 ms with each flow's phase. */
  onProgress?: (phases: Map<string, Phase[]>, elapsedMs: number) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The image pipeline: each flow downloads (1 s), runs ML holding its worker's GPU limit
 * `gpu:<worker>` (3 s), then saves (0.5 s). All flows of all workers start at once.
 */
export async function runImagePipeline(slots: Coordinator, o: PipelineOptions): Promise<FlowRecord[]> {
  for (const worker of o.workers) await slots.limits.upsert(`gpu:${worker}`, { slots: o.gpuSlots, active: true })
  const phases = new Map(o.workers.map((w) => [w, Array<Phase>(o.flowsPerWorker).fill('download')]))
  const start = performance.now()
  const now = () => performance.now() - start
  const timer = setInterval(() => o.onProgress?.(phases, now()), 250)
  try {
    const flows = o.workers.flatMap((worker) =>
      Array.from({ length: o.flowsPerWorker }, async (_, flow): Promise<FlowRecord> => {
        const setPhase = (p: Phase) => ((phases.get(worker) as Phase[])[flow] = p)
        const downloadStart = now()
        await sleep(1000 / o.speed)
        const downloadEnd = now()
        setPhase('wait')
        const { gpuStart, gpuEnd } = await slots.concurrency(
          `gpu:${worker}`,
          async () => {
            setPhase('gpu')
            const gpuStart = now()
            await sleep(3000 / o.speed)
            return { gpuStart, gpuEnd: now() }
          },
          { ttlMs: 30_000, holder: { worker, flow } },
        )
        setPhase('save')
        await sleep(500 / o.speed)
        setPhase('done')
        return { worker, flow, downloadStart, downloadEnd, gpuStart, gpuEnd, saveEnd: now() }
      }),
    )
    return await Promise.all(flows)
  } finally {
    clearInterval(timer)
    o.onProgress?.(phases, now())
  }
}

/** Largest number of intervals open at the same time. */
export function maxOverlap(intervals: Array<[number, number]>): number {
  const edges = intervals.flatMap(([a, b]) => [
    [a, 1],
    [b, -1],
  ]) as Array<[number, number]>
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]) // an end before a start at the same instant
  let open = 0
  let max = 0
  for (const [, delta] of edges) {
    open += delta
    max = Math.max(max, open)
  }
  return max
}
