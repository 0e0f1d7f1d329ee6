import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasChromium, launchBrowser, type TestBrowser } from '../helpers/browser.js'
import { type RunningWorker, startWorker } from '../helpers/processes.js'
import { useTestSchema } from '../helpers/test-schema.js'
import { type RunningUi, startUi } from '../helpers/ui-server.js'

const seen = { timeout: 20_000 }

describe.skipIf(!hasChromium)('pgslots ui as a reader role (views only)', () => {
  const t = useTestSchema()
  let browser: TestBrowser
  let holder: RunningWorker<{ token?: string }>
  const uis: RunningUi[] = []
  let reader: { name: string; url: string }

  beforeAll(async () => {
    const owner = t.coordinator()
    reader = await t.loginRole('reader')
    await owner.grant({ reader: reader.name })
    await owner.limits.create('gpu', { slots: 1 })
    holder = await startWorker('ui-holder', { url: t.url, schema: t.schema, name: 'gpu', holder: 'job-1' })
    browser = await launchBrowser()
  }, 90_000)
  afterAll(async () => {
    await holder?.kill('SIGKILL')
    await browser?.close()
    await Promise.allSettled(uis.map((ui) => ui.stop()))
  })

  it('shows limits and holders, no admin control even with --admin, and never a secret lease id', async () => {
    const ui = await startUi(['--admin', '--schema', t.schema], { DATABASE_URL: reader.url })
    uis.push(ui)
    const page = await browser.context.newPage()
    await page.goto(`${ui.url}#limit=gpu`)
    await page.locator('#holders tbody tr', { hasText: 'job-1' }).waitFor(seen)
    expect(await page.locator('#admin').isHidden()).toBe(true)
    expect(await page.locator('button.revoke').count()).toBe(0)
    const [lease] = await t.query<{ id: string }>('SELECT id::text FROM leases')
    expect(await page.content()).not.toContain(lease!.id)
    // The database has the last word: a POST with the page's token is still refused for this role.
    const { token } = JSON.parse((await page.locator('meta[name="pgslots-config"]').getAttribute('content'))!) as { token: string }
    const response = await fetch(`${ui.url}api/limit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pgslots-token': token, origin: new URL(ui.url).origin },
      body: JSON.stringify({ name: 'gpu', slots: 5 }),
    })
    expect(response.status).toBe(403)
    await page.close()
  })

  it('without --admin puts no token in the page and refuses every POST', async () => {
    const ui = await startUi(['--schema', t.schema], { DATABASE_URL: reader.url })
    uis.push(ui)
    const html = await (await fetch(ui.url)).text()
    expect(html).toContain('content="{&quot;admin&quot;:false}"')
    const response = await fetch(`${ui.url}api/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: new URL(ui.url).origin },
      body: JSON.stringify({ fencingToken: '1' }),
    })
    expect(response.status).toBe(403)
  })
})
