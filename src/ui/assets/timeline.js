/* global document */
// Swimlanes of the last minutes for one limit: a lane per holder, a bar per lease from its
// grant to its end (or to now while held). Plain positioned divs: uPlot draws series, not spans.
const windowMinutes = 5
// Many short-lived holders (a process each) would make a wall of lanes: the latest ones only.
const maxLanes = 30

export function renderTimeline(container, limitName, frame, holderText) {
  const now = new Date(frame.at).getTime()
  const from = now - windowMinutes * 60_000
  const spans = [
    ...frame.history
      .filter((h) => h.names.includes(limitName))
      .map((h) => ({ holder: holderText(h.holder), start: Date.parse(h.grantedAt), end: Date.parse(h.endedAt), how: h.endedHow, token: h.fencingToken })),
    ...frame.holders
      .filter((h) => h.names.includes(limitName))
      .map((h) => ({ holder: holderText(h.holder), start: Date.parse(h.acquiredAt), end: now, how: 'live', token: h.fencingToken })),
  ].filter((s) => s.end >= from)
  const lanes = new Map()
  for (const s of spans) {
    if (!lanes.has(s.holder)) lanes.set(s.holder, [])
    lanes.get(s.holder).push(s)
  }
  const latest = (list) => Math.max(...list.map((s) => s.end))
  const shown = [...lanes].sort(([, a], [, b]) => latest(b) - latest(a)).slice(0, maxLanes)
  const position = (t) => `${(Math.max(0, t - from) / (now - from)) * 100}%`
  container.replaceChildren(
    ...shown.sort(([a], [b]) => a.localeCompare(b)).map(([holder, list]) => {
      const lane = document.createElement('div')
      lane.className = 'lane'
      const name = document.createElement('span')
      name.className = 'lane-name'
      name.textContent = name.title = holder
      const track = document.createElement('div')
      track.className = 'lane-track'
      for (const s of list) {
        const bar = document.createElement('div')
        bar.className = `span ${s.how}`
        bar.style.left = position(s.start)
        bar.style.width = `calc(${position(s.end)} - ${position(s.start)})`
        bar.title = `#${s.token} ${s.how} (${((s.end - s.start) / 1000).toFixed(1)} s)`
        track.appendChild(bar)
      }
      lane.append(name, track)
      return lane
    }),
  )
  if (lanes.size === 0) container.textContent = 'no leases in the last 5 minutes'
  else if (lanes.size > maxLanes) {
    const more = document.createElement('p')
    more.textContent = `${lanes.size - maxLanes} more holders before these`
    container.appendChild(more)
  }
}
