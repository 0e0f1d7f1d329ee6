import { mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasChromium, launchBrowser, type TestBrowser } from '../helpers/browser.js'
import { type RunningWorker, startWorker } from '../helpers/processes.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { type RunningUi, startUi } from '../helpers/ui-server.js'

if (!hasChromium) console.warn('ui browser tests skipped: /usr/bin/chromium is absent (.ci/run installs it)')

// Waits are conditions with generous timeouts (a busy machine); the page itself polls every 500 ms.
const seen = { timeout: 20_000 }

describe.skipIf(!hasChromium)('pgslots ui in headless Chromium', () => {
  const t = useTestSchema()
  let proxy: TcpProxy
  let ui: RunningUi
  let browser: TestBrowser
  let page: Page
  const workers: Array<RunningWorker<{ token?: string }>> = []
  const hold = async (name: string, holder: string) => {
    const w = await startWorker<{ token?: string }>('ui-holder', { url: t.url, schema: t.schema, name, holder })
    workers.push(w)
    return w
  }
  const tokenOf = async (w: RunningWorker<{ token?: string }>) => {
    for (;;) {
      const token = w.printed().find((e) => e.token)?.token
      if (token) return token
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  beforeAll(async () => {
    const owner = t.coordinator()
    await owner.limits.create('gpu', { slots: 1 })
    await owner.limits.create('api:openai', { slots: 5, slotDecayPerSecond: 1 })
    await owner.limits.create('api:*', { slots: 3 })
    proxy = await TcpProxy.inFrontOf(t.url)
    ui = await startUi(['--admin', '--schema', t.schema], { DATABASE_URL: proxy.url(t.url) })
    browser = await launchBrowser()
    page = await browser.context.newPage()
    await page.goto(`${ui.url}#limit=gpu`)
  }, 90_000)
  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.kill('SIGKILL')))
    await browser?.close()
    await ui?.stop()
    await proxy?.stop()
  })

  it('shows the limits, their kinds and the selected limit', async () => {
    const gpu = page.locator('#limits tr[data-limit="gpu"]')
    await gpu.waitFor(seen)
    expect(await gpu.locator('td').nth(1).textContent()).toBe('limit')
    expect(await page.locator('#limits tr[data-limit="api:openai"] td').nth(1).textContent()).toBe('rate limit')
    expect(await page.locator('#limits tr[data-limit="api:*"] td').nth(1).textContent()).toBe('template')
    // A template holds no slots: no usage bar.
    expect(await page.locator('#limits tr[data-limit="api:*"] td').nth(3).textContent()).toBe('template')
    expect(await page.locator('#limits tr[data-limit="api:*"] td').nth(3).locator('> *').first().isVisible()).toBe(false)
    expect(await gpu.locator('td').nth(3).locator('> *').first().isVisible()).toBe(true)
    await page.locator('#detail-name').filter({ hasText: 'gpu: 0 of 1 slots used' }).waitFor(seen)
    await page.fill('#prefix', 'api:')
    await page.locator('#limits tr[data-limit="gpu"]').waitFor({ state: 'detached', ...seen })
    expect(await page.locator('#limit-count').textContent()).toBe('(2 of 3)')
    await page.fill('#prefix', '')
    expect(await page.locator('#charts canvas').count()).toBe(4) // uPlot: acquisitions, wait, denials, expirations
  })

  it('disables, enables and resizes a limit from the page (--admin, as the owner)', async () => {
    await page.click('#toggle-active', seen)
    await page.locator('#limits tr[data-limit="gpu"].inactive').waitFor(seen)
    await page.click('#toggle-active', seen)
    await page.locator('#limits tr[data-limit="gpu"]:not(.inactive)').waitFor(seen)
    await page.fill('#slots-input', '3')
    await page.click('#set-slots', seen)
    await page.locator('#detail-name').filter({ hasText: 'of 3 slots' }).waitFor(seen)
    await page.fill('#slots-input', '1')
    await page.click('#set-slots', seen)
    await page.locator('#detail-name').filter({ hasText: 'gpu: 0 of 1 slots used' }).waitFor(seen)
  })

  it('shows a holder from another process, a waiter in line, and the release, without a reload', async () => {
    const holder = await hold('gpu', 'render-job-1')
    const token = await tokenOf(holder)
    const row = page.locator(`#holders tr[data-token="${token}"]`)
    await row.waitFor(seen)
    expect(await row.locator('td').nth(1).textContent()).toBe('render-job-1')
    const waiter = await hold('gpu', 'render-job-2')
    const waiting = page.locator('#waiters tbody tr', { hasText: 'render-job-2' })
    await waiting.waitFor(seen)
    expect(await waiting.locator('td').first().textContent()).toBe('1')
    await page.locator('#timeline .lane', { hasText: 'render-job-1' }).waitFor(seen)
    mkdirSync('test-artifacts', { recursive: true })
    await page.screenshot({ path: 'test-artifacts/ui.png', fullPage: true })
    await holder.kill('SIGTERM') // releases: the waiter is granted, the holder's row goes
    await row.waitFor({ state: 'detached', ...seen })
    const next = await tokenOf(waiter)
    await page.locator(`#holders tr[data-token="${next}"]`).waitFor(seen)
    expect(await page.locator('#waiters tbody tr').count()).toBe(0)
    await waiter.kill('SIGTERM')
    await page.locator(`#holders tr[data-token="${next}"]`).waitFor({ state: 'detached', ...seen })
  })

  it('revokes a lease from the page (--admin, as the owner)', async () => {
    const holder = await hold('gpu', 'to-be-revoked')
    const token = await tokenOf(holder)
    const row = page.locator(`#holders tr[data-token="${token}"]`)
    await row.locator('button.revoke').click(seen)
    await row.waitFor({ state: 'detached', ...seen })
    expect(await page.locator('#admin-result').textContent()).toBe('done')
    const [lease] = await t.query(`SELECT count(*)::int AS n FROM leases WHERE fencing_token = $1`, [token])
    expect(lease).toEqual({ n: 0 })
  })

  it('refuses a cross-site POST and one without the token', async () => {
    const body = JSON.stringify({ name: 'gpu', slots: 99 })
    const headers = { 'content-type': 'application/json' }
    const crossSite = await fetch(`${ui.url}api/limit`, { method: 'POST', body, headers: { ...headers, origin: 'http://evil.example' } })
    expect(crossSite.status).toBe(403)
    const noToken = await fetch(`${ui.url}api/limit`, { method: 'POST', body, headers: { ...headers, origin: new URL(ui.url).origin } })
    expect(noToken.status).toBe(403)
    // From a page of another origin in the same browser: the request never gets through either.
    const other = await browser.context.newPage()
    await other.goto('about:blank')
    await other.evaluate(
      ([url, body]) => fetch(url!, { method: 'POST', mode: 'no-cors', body, headers: { 'content-type': 'text/plain' } }).catch(() => null),
      [`${ui.url}api/limit`, body],
    )
    await other.close()
    const [gpu] = await t.query(`SELECT slots FROM limits WHERE name = 'gpu'`)
    expect(gpu).toEqual({ slots: 1 })
  })

  it('shows a banner while the database is unreachable and recovers by itself', async () => {
    proxy.drop()
    await page.locator('#banner', { hasText: 'Database unreachable' }).waitFor(seen)
    proxy.resume()
    await page.locator('#banner').waitFor({ state: 'hidden', ...seen })
    // A partition (nothing answers, nothing is refused): the banner after a few seconds, then
    // the cut connections fail their reads and new ones work.
    proxy.stall()
    await page.locator('#banner', { hasText: 'has not answered' }).waitFor(seen)
    proxy.cut()
    proxy.resume()
    await page.locator('#banner').waitFor({ state: 'hidden', ...seen })
    await t.coordinator().limits.update('gpu', { slots: 2 })
    await page.locator('#detail-name').filter({ hasText: 'of 2 slots' }).waitFor(seen)
  })
})
