import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'

/** Debian's chromium (.ci/run installs it); the UI tests skip without it. */
export const chromiumPath = '/usr/bin/chromium'
export const hasChromium = existsSync(chromiumPath)

export interface TestBrowser {
  /** A persistent context: Playwright's way to take a --user-data-dir of our own. */
  context: BrowserContext
  close(): Promise<void>
}

/** A headless Chromium with a fresh profile of its own and nothing that calls home. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'pgslots-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    // Playwright's own headless flag is off: these are the flags the test plan names, verbatim.
    headless: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
    viewport: { width: 1280, height: 900 },
  })
  return {
    context,
    async close() {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
