import { beforeAll, describe, expect, it } from 'vitest'
import { serveUi } from '../../src/index.js'
import { useTestSchema } from '../helpers/test-schema.js'

/** The first `count` snapshot frames of one page's event stream. */
async function snapshots(url: string, count: number): Promise<Array<{ at: string; limits: Array<{ name: string }> }>> {
  const controller = new AbortController()
  const response = await fetch(`${url}events`, { signal: controller.signal })
  const decoder = new TextDecoder()
  const frames: Array<{ at: string; limits: Array<{ name: string }> }> = []
  let text = ''
  for await (const chunk of response.body!) {
    text += decoder.decode(chunk as Uint8Array, { stream: true })
    for (const match of text.matchAll(/event: snapshot\ndata: (.*)\n\n/g)) frames.push(JSON.parse(match[1]!))
    text = text.slice(text.lastIndexOf('\n\n') + 2)
    if (frames.length >= count) break
  }
  controller.abort()
  return frames.slice(0, count)
}

describe('serveUi() in your own process', () => {
  const t = useTestSchema()
  beforeAll(async () => {
    await t.coordinator().limits.create('gpu', { slots: 2 })
  })

  it('serves the page on a free port and sends every open page the same frames from one poll loop', async () => {
    const ui = await serveUi(t.coordinator({ listen: false }), { port: 0, intervalMs: 200 })
    try {
      expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      expect(await (await fetch(ui.url)).text()).toContain('<title>pgslots</title>')
      const [a, b, c] = await Promise.all([snapshots(ui.url, 5), snapshots(ui.url, 5), snapshots(ui.url, 5)])
      expect(a![0]!.limits.map((l) => l.name)).toEqual(['gpu'])
      // Nothing changed: the later frames leave the limits out (the page keeps its own).
      expect(a![4]!.limits).toBeUndefined()
      // One read per interval for all pages: the pages that were open together got the very same frames.
      const times = (frames: Array<{ at: string }>) => new Set(frames.map((f) => f.at))
      const common = [...times(a!)].filter((at) => times(b!).has(at) && times(c!).has(at))
      expect(common.length).toBeGreaterThanOrEqual(2)
    } finally {
      await ui.close()
    }
  })

  it('shows a rate limit by its bucket: the budget in use and when a slot frees', async () => {
    const slots = t.coordinator({ listen: false })
    await slots.limits.create('api', { slots: 2, slotDecayPerSecond: 0.01 })
    await slots.rateLimit('api', { occupy: 2 })
    const ui = await serveUi(slots, { port: 0, intervalMs: 200 })
    try {
      const [frame] = await snapshots(ui.url, 1)
      const api = frame!.limits.find((l) => l.name === 'api') as unknown as { activeSlots: number; bucketLevel: number; bucketFreesAt: string }
      expect(api.activeSlots).toBe(0)
      expect(api.bucketLevel).toBeGreaterThan(1.9)
      expect(new Date(api.bucketFreesAt).getTime()).toBeGreaterThan(Date.now())
      // The library's LimitInfo shape, plus what the view derives.
      const info = JSON.parse(JSON.stringify(await slots.limits.get('api'))) as Record<string, unknown>
      const derived = ['free', 'utilisation']
      expect(Object.keys(api).filter((key) => !derived.includes(key) && !(key in info))).toEqual([])
      expect(api).toMatchObject({ name: info.name, kind: info.kind, slots: info.slots, slotDecayPerSecond: info.slotDecayPerSecond, activeSlots: 0 })
    } finally {
      await ui.close()
    }
  })
})
