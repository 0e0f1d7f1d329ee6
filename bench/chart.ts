// A dependency-free SVG of the contention results: handoff latency (log scale) and
// utilisation, one row per system.
import type { ContentionResult } from './scenarios/contention.js'

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function contentionChart(results: ContentionResult[], title: string): string {
  const rowHeight = 46
  const labelWidth = 300
  const panelWidth = 330
  const top = 58
  const height = top + results.length * rowHeight + 54
  const width = labelWidth + 2 * panelWidth + 40
  // Log scale for latency: 0.1 ms … 10 s.
  const logX = (ms: number) => (Math.log10(Math.min(Math.max(ms, 0.1), 10_000)) + 1) / 5
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="${labelWidth}" y="44">handoff p50 (dark) / p99 (light), ms, log scale</text>`,
    `<text x="${labelWidth + panelWidth + 20}" y="44">utilisation of the slots</text>`,
  ]
  results.forEach((r, i) => {
    const y = top + i * rowHeight
    const label = r.processes > 1 ? `${r.system}, ${r.processes} processes` : r.system
    parts.push(`<text x="10" y="${y + 22}">${escape(label)}</text>`)
    const p99 = logX(r.handoffP99Ms) * (panelWidth - 60)
    const p50 = logX(r.handoffP50Ms) * (panelWidth - 60)
    parts.push(`<rect x="${labelWidth}" y="${y + 6}" width="${p99.toFixed(1)}" height="22" fill="#9ecae1"/>`)
    parts.push(`<rect x="${labelWidth}" y="${y + 10}" width="${p50.toFixed(1)}" height="14" fill="#3182bd"/>`)
    parts.push(`<text x="${(labelWidth + p99 + 4).toFixed(1)}" y="${y + 22}">${r.handoffP50Ms} / ${r.handoffP99Ms}</text>`)
    const u = Math.min(1, r.utilisation) * (panelWidth - 60)
    const x = labelWidth + panelWidth + 20
    parts.push(`<rect x="${x}" y="${y + 6}" width="${u.toFixed(1)}" height="22" fill="#31a354"/>`)
    parts.push(`<text x="${(x + u + 4).toFixed(1)}" y="${y + 22}">${Math.round(r.utilisation * 100)} %</text>`)
  })
  const axisY = top + results.length * rowHeight + 14
  for (const ms of [0.1, 1, 10, 100, 1000, 10_000]) {
    const x = (labelWidth + logX(ms) * (panelWidth - 60)).toFixed(1)
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${axisY - 10}" stroke="#ddd"/>`)
    parts.push(`<text x="${x}" y="${axisY}" text-anchor="middle" fill="#555">${ms}</text>`)
  }
  // The targets: handoff p50 0.5 ms, utilisation 90 %.
  const target = (x: number, label: string) =>
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${axisY - 10}" stroke="#e6550d" stroke-dasharray="4 3"/>`,
      `<text x="${x.toFixed(1)}" y="${axisY + 14}" text-anchor="middle" fill="#e6550d">${label}</text>`,
    )
  target(labelWidth + logX(0.5) * (panelWidth - 60), 'target p50')
  target(labelWidth + panelWidth + 20 + 0.9 * (panelWidth - 60), 'target 90 %')
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
