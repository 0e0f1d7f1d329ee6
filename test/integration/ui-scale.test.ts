import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasChromium, launchBrowser, type TestBrowser } from '../helpers/browser.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { type RunningUi, startUi } from '../helpers/ui-server.js'

const seen = { timeout: 30_000 }

describe.skipIf(!hasChromium)('pgslots ui with thousands of limits', () => {
  const t = useTestSchema()
  let ui: RunningUi
  let browser: TestBrowser
  beforeAll(async () => {
    // 3,000 limits in one statement (through the table: put_limit one by one would take the longest).
    await t.query(`INSERT INTO limits (name, slots) SELECT 'tenant:' || lpad(i::text, 4, '0'), 2 FROM generate_series(1, 3000) i`)
    ui = await startUi(['--schema', t.schema], { DATABASE_URL: t.url })
    browser = await launchBrowser()
  }, 90_000)
  afterAll(async () => {
    await browser?.close()
    await ui?.stop()
  })

  it('draws a bounded number of rows and finds any limit by prefix or search', async () => {
    const page = await browser.context.newPage()
    await page.goto(ui.url)
    await page.locator('#limit-count', { hasText: '(3000 of 3000)' }).waitFor(seen)
    expect(await page.locator('#limits tbody tr').count()).toBe(200)
    expect(await page.locator('#limits-more').textContent()).toContain('2800 more')
    await page.fill('#search', '2999')
    await page.locator('#limits tr[data-limit="tenant:2999"]').waitFor(seen)
    expect(await page.locator('#limits tbody tr').count()).toBe(1)
    await page.fill('#search', '')
    await page.fill('#prefix', 'tenant:10')
    await page.locator('#limit-count', { hasText: '(100 of 3000)' }).waitFor(seen)
  })
})
