/* global document, uPlot */
// Per-minute charts with uPlot (served from its npm package): one chart per measure, for the
// selected limit or, with none selected, summed over all limits (wait: the worst limit's).
const minutes = 15
const charts = [
  { title: 'acquisitions', series: [['acquisitions', '#3b6fd8', 'acquisitions']] },
  { title: 'wait (s)', series: [['p50', '#2e9d5b', 'waitP50'], ['p95', '#d8843b', 'waitP95']] },
  { title: 'denials', series: [['denials', '#b3261e', 'denials']] },
  { title: 'expirations', series: [['expirations', '#7b3bd8', 'expirations']] },
]
const plots = []
let lastKey = ''

function columns(stats, selected) {
  const end = Math.floor(Date.now() / 60_000) * 60
  const xs = Array.from({ length: minutes }, (_, i) => end - (minutes - 1 - i) * 60)
  const at = new Map(xs.map((x, i) => [x, i]))
  const fields = ['acquisitions', 'waitP50', 'waitP95', 'denials', 'expirations']
  const data = Object.fromEntries(fields.map((f) => [f, xs.map(() => (f.startsWith('wait') ? null : 0))]))
  for (const s of stats) {
    if (selected && s.limit !== selected) continue
    const i = at.get(Date.parse(s.minute) / 1000)
    if (i === undefined) continue
    for (const f of fields) {
      if (s[f] === null) continue
      data[f][i] = f.startsWith('wait') ? Math.max(data[f][i] ?? 0, s[f]) : data[f][i] + s[f]
    }
  }
  return { xs, data }
}

export function renderCharts(container, scope, frame, selected) {
  const known = selected && frame.limits.some((l) => l.name === selected)
  scope.textContent = known ? `(${selected})` : '(all limits)'
  const { xs, data } = columns(frame.stats, known ? selected : null)
  // setData only when something changed: the frames come twice a second, the stats do not.
  const key = JSON.stringify([xs[0], known && selected, data])
  if (key === lastKey) return
  lastKey = key
  const width = Math.max(300, container.clientWidth - 40)
  charts.forEach((chart, i) => {
    const values = [xs, ...chart.series.map(([, , field]) => data[field])]
    if (plots[i]) return plots[i].setData(values)
    const box = document.createElement('div')
    box.className = 'chart'
    const title = document.createElement('h4')
    title.textContent = chart.title
    box.appendChild(title)
    container.appendChild(box)
    plots[i] = new uPlot(
      {
        width,
        height: 120,
        legend: { show: chart.series.length > 1 },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        series: [{}, ...chart.series.map(([label, stroke]) => ({ label, stroke, width: 2, points: { show: true, size: 4 } }))],
      },
      values,
      box,
    )
  })
}
