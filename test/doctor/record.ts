// Records HAR files with Debian's Chromium (playwright-core's recordHar) from the example, started
// as `npm run example` starts it (example/main.ts, free ports, its own process, coverage off, see
// test/helpers/example.ts). Each scenario gets a fresh browser context, so a fresh cookie jar.
import { findBrowser } from '../helpers/browser.js'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

/** The browser the recordings use (CHROMIUM_PATH, then the usual names). */
export const BROWSER = findBrowser()

export { startExample, type RunningExample } from '../helpers/example.js'

export function launch (): Promise<Browser> {
  return chromium.launch({
    executablePath: BROWSER.path,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 60_000
  })
}

/** Runs a scenario in a fresh context that records every request, bodies included, into `path`. */
export async function recordHar (browser: Browser, path: string, scenario: (context: BrowserContext, page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ recordHar: { path, content: 'embed' } })
  try {
    const page = await context.newPage()
    page.setDefaultTimeout(30_000)
    await scenario(context, page)
  } finally {
    // The HAR is written when the context closes.
    await context.close()
  }
}

export async function signIn (page: Page, appUrl: string): Promise<void> {
  await page.goto(appUrl)
  await Promise.all([page.waitForURL(`${appUrl}/`), page.click('button[value="alice"]')])
}

export async function openOwnedCourse (page: Page, appUrl: string): Promise<void> {
  await Promise.all([page.waitForURL(`${appUrl}/courses/hls-basics`), page.click('a[href="/courses/hls-basics"]')])
}
