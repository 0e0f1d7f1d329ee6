import type { FlowRecord, Phase } from './pipeline.js'

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

const symbol: Record<Phase, string> = { download: 'd', wait: '.', gpu: 'G', save: 's', done: ' ' }

/** Per worker and flow (from history), one character per time step: d download, . waiting for the GPU, G on GPU, s save. */
export function renderTimeline(records: FlowRecord[], width = 64): string {
  const end = Math.max(...records.map((r) => r.saveEnd))
  const step = end / width
  const phaseAt = (r: FlowRecord, t: number): Phase =>
    t < r.downloadEnd ? 'download' : t < r.gpuStart ? 'wait' : t < r.gpuEnd ? 'gpu' : t < r.saveEnd ? 'save' : 'done'
  const lines: string[] = []
  for (const worker of [...new Set(records.map((r) => r.worker))]) {
    lines.push(`${worker}  (d download, . waiting for GPU, G on GPU, s save; ${(end / 1000).toFixed(1)} s across)`)
    for (const r of records.filter((x) => x.worker === worker).sort((a, b) => a.gpuStart - b.gpuStart)) {
      let row = ''
      for (let i = 0; i < width; i++) row += symbol[phaseAt(r, (i + 0.5) * step)]
      lines.push(`  flow ${String(r.flow).padStart(2)} |${row}|`)
    }
  }
  return lines.join('\n')
}

/** e.g. `gpu-1: max 2 concurrent on GPU (limit 2), 10/10 flows done, downloads overlapped: 10` */
export function summarize(records: FlowRecord[], gpuSlots: number, flowsPerWorker: number): string[] {
  return [...new Set(records.map((r) => r.worker))].map((worker) => {
    const mine = records.filter((r) => r.worker === worker)
    const gpu = maxOverlap(mine.map((r) => [r.gpuStart, r.gpuEnd]))
    const downloads = maxOverlap(mine.map((r) => [r.downloadStart, r.downloadEnd]))
    const processes = new Set(mine.map((r) => r.pid)).size
    return `${worker}: max ${gpu} concurrent on GPU (limit ${gpuSlots}), ${mine.length}/${flowsPerWorker} flows done, downloads overlapped: ${downloads}, ${processes} flow processes`
  })
}
