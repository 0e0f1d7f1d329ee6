/* global document, window, EventSource, fetch, URLSearchParams */
// The live page: one EventSource from the server's shared poll loop; every frame re-renders
// from the data alone. Text goes in through textContent only: holder labels are user data.
import { renderCharts } from './charts.js'
import { renderTimeline } from './timeline.js'

const config = JSON.parse(document.querySelector('meta[name="pgslots-config"]').content)
const maxRows = 200 // rows drawn at once; the filters narrow thousands of limits down
const $ = (id) => document.getElementById(id)
let frame = null
let selected = new URLSearchParams(window.location.hash.slice(1)).get('limit')

export const holderText = (holder) => (typeof holder === 'string' ? holder : JSON.stringify(holder))
const secondsText = (s) => (s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`)

/** A row per item, kept by key so buttons in them survive the next frame. */
function syncRows(tbody, items, key, create, update) {
  const old = new Map([...tbody.children].map((tr) => [tr.dataset.key, tr]))
  items.forEach((item, index) => {
    const k = key(item)
    let tr = old.get(k)
    if (tr) old.delete(k)
    else {
      tr = document.createElement('tr')
      tr.dataset.key = k
      create(tr, item)
    }
    update(tr, item, index)
    if (tbody.children[index] !== tr) tbody.insertBefore(tr, tbody.children[index] ?? null)
  })
  for (const tr of old.values()) tr.remove()
}

function cells(tr, n) {
  for (let i = 0; i < n; i++) tr.appendChild(document.createElement('td'))
  return [...tr.children]
}

function setCells(tr, values) {
  values.forEach((v, i) => {
    if (v !== null && tr.children[i].textContent !== v) tr.children[i].textContent = v
  })
}

function renderLimits() {
  const prefix = $('prefix').value
  const search = $('search').value.toLowerCase()
  const matching = frame.limits.filter((l) => l.name.startsWith(prefix) && (!search || l.name.toLowerCase().includes(search)))
  const shown = matching.slice(0, maxRows)
  $('limit-count').textContent = `(${matching.length} of ${frame.limits.length})`
  $('limits-more').hidden = matching.length <= maxRows
  $('limits-more').textContent = `${matching.length - maxRows} more: narrow them with the prefix or search`
  syncRows(
    $('limits').tBodies[0],
    shown,
    (l) => l.name,
    (tr, l) => {
      cells(tr, 9)
      tr.dataset.limit = l.name
      const bar = document.createElement('span')
      bar.className = 'bar'
      bar.appendChild(document.createElement('span'))
      tr.children[3].append(bar, document.createElement('span'))
      tr.addEventListener('click', () => select(l.name))
    },
    (tr, l) => {
      setCells(tr, [
        l.active ? l.name : `${l.name} (disabled)`,
        l.kind === 'limit' && l.slotDecayPerSecond > 0 ? 'rate limit' : l.kind,
        String(l.slots),
        null,
        String(l.free),
        String(l.waiting),
        l.utilisation === null ? '' : `${Math.round(l.utilisation * 100)}%`,
        String(l.deniedSlots),
        secondsText(l.avgSlotOccupancySeconds),
      ])
      // A rate limit holds no slots: its bar is the budget in use.
      const used = l.bucketLevel ?? l.activeSlots
      const share = l.slots > 0 ? Math.min(1, used / l.slots) : 0
      const bar = tr.children[3].firstChild
      bar.firstChild.style.width = `${share * 100}%`
      bar.classList.toggle('full', used >= l.slots && l.slots > 0)
      tr.children[3].lastChild.textContent = l.bucketLevel === null ? String(l.activeSlots) : l.bucketLevel.toFixed(1)
      // A template holds no slots: no bar, as in `watch`.
      bar.hidden = l.kind === 'template'
      if (l.kind === 'template') tr.children[3].lastChild.textContent = 'template'
      tr.classList.toggle('selected', l.name === selected)
      tr.classList.toggle('inactive', !l.active)
    },
  )
}

function renderDetail() {
  const limit = selected && frame.limits.find((l) => l.name === selected)
  $('detail').hidden = !limit
  if (!limit) return
  const frees = limit.bucketFreesAt ? `, next slot frees in ${secondsText(Math.max(0, (Date.parse(limit.bucketFreesAt) - Date.now()) / 1000))}` : ''
  $('detail-name').textContent =
    limit.bucketLevel === null
      ? `${limit.name}: ${limit.activeSlots} of ${limit.slots} slots used${limit.active ? '' : ', disabled'}`
      : `${limit.name}: ${limit.bucketLevel.toFixed(1)} of ${limit.slots} budget used${frees}${limit.active ? '' : ', disabled'}`
  const rights = config.admin && frame.admin
  $('admin').hidden = !(rights && rights.limits)
  $('toggle-active').textContent = limit.active ? 'disable' : 'enable'
  if (document.activeElement !== $('slots-input')) $('slots-input').value = String(limit.slots)
  const holders = frame.holders.filter((h) => h.names.includes(limit.name))
  syncRows(
    $('holders').tBodies[0],
    holders,
    (h) => h.fencingToken,
    (tr, h) => {
      cells(tr, 6)
      tr.dataset.token = h.fencingToken
      tr.children[1].className = 'holder'
      if (rights && rights.revoke) {
        const button = document.createElement('button')
        button.type = 'button'
        button.className = 'revoke'
        button.textContent = 'revoke'
        button.addEventListener('click', () => adminAction('revoke', { fencingToken: h.fencingToken }))
        tr.children[5].appendChild(button)
      }
    },
    (tr, h) =>
      setCells(tr, [`#${h.fencingToken}`, holderText(h.holder), String(h.occupy), secondsText(h.ageSeconds), secondsText(Math.max(0, h.expiresInSeconds))]),
  )
  const waiters = frame.waiters.filter((w) => w.names.includes(limit.name))
  syncRows(
    $('waiters').tBodies[0],
    waiters,
    (w) => w.ticket,
    (tr, w) => {
      cells(tr, 6)
      tr.dataset.ticket = w.ticket
      tr.children[2].className = 'holder'
    },
    (tr, w, index) =>
      setCells(tr, [String(index + 1), String(w.priority), holderText(w.holder), String(w.occupy), secondsText(w.waitingSeconds), w.ticket]),
  )
  renderTimeline($('timeline'), limit.name, frame, holderText)
}

function select(name) {
  selected = name
  window.location.hash = new URLSearchParams({ limit: name }).toString()
  render()
}

function render() {
  if (!frame) return
  $('schema').textContent = `schema ${frame.schema}`
  $('updated').textContent = `updated ${new Date(frame.at).toLocaleTimeString()}`
  renderLimits()
  renderDetail()
  renderCharts($('charts'), $('charts-scope'), frame, selected)
}

async function adminAction(action, body) {
  const out = $('admin-result')
  try {
    const response = await fetch(`/api/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pgslots-token': config.token },
      body: JSON.stringify(body),
    })
    const result = await response.json()
    out.textContent = response.ok ? 'done' : `refused: ${result.error}`
  } catch (error) {
    out.textContent = `failed: ${error.message}`
  }
}

function showBanner(text) {
  $('banner').hidden = text === null
  $('banner').textContent = text ?? ''
}

$('toggle-active').addEventListener('click', () => {
  const limit = frame.limits.find((l) => l.name === selected)
  if (limit) adminAction('limit', { name: limit.name, active: !limit.active })
})
$('set-slots').addEventListener('click', () => adminAction('limit', { name: selected, slots: Number($('slots-input').value) }))
// A link or the back button changes the selected limit without a reload.
window.addEventListener('hashchange', () => {
  selected = new URLSearchParams(window.location.hash.slice(1)).get('limit')
  render()
})
$('prefix').addEventListener('input', render)
$('search').addEventListener('input', render)

const events = new EventSource('/events')
events.addEventListener('snapshot', (event) => {
  const next = JSON.parse(event.data)
  // The server leaves the limits out of a frame when none changed.
  frame = { ...next, limits: next.limits ?? frame?.limits ?? [] }
  showBanner(null)
  render()
})
events.addEventListener('down', (event) => {
  showBanner(`Database unreachable: ${JSON.parse(event.data).message}. Showing the last data; retrying every second.`)
})
// EventSource reconnects by itself; until then the page says why nothing moves.
events.addEventListener('error', () => showBanner('Lost the connection to the pgslots ui server; reconnecting…'))
