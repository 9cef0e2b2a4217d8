// The example's cookie-less page in a real browser: Debian's Chromium plays the course through the
// app's playlist mirror with hls.js, withCredentials off, and never holds a CloudFront cookie.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBrowser } from '../helpers/browser.js'
import { startExample } from '../helpers/example.js'
import { chromium, type Response } from 'playwright-core'

const browser = findBrowser()

if (browser.path === undefined) {
  t.fail(browser.message)
} else {
  t.test('the cookie-less player in Chromium', async (t) => {
    const keysDir = mkdtempSync(join(tmpdir(), 'cf-cookieless-keys-'))
    const userDataDir = mkdtempSync(join(tmpdir(), 'cf-cookieless-chromium-'))
    // One teardown, in order: the browser, then the example, then their folders.
    const closing: Array<() => Promise<void>> = []
    t.teardown(async () => {
      for (const close of closing.reverse()) await close()
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 })
      rmSync(keysDir, { recursive: true, force: true })
    })
    const { appUrl, edgeUrl, stop } = await startExample({ PORT: '0', EDGE_PORT: '0', KEYS_DIR: keysDir })
    closing.push(stop)
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.path,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000
    })
    closing.push(() => context.close())
    const page = context.pages()[0] ?? await context.newPage()
    page.setDefaultTimeout(30_000)
    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    // allHeaders(): the headers as sent on the network (headers() leaves out the Cookie the browser adds).
    const sent: Array<Promise<{ url: string, status: number, cookie: string | undefined }>> = []
    const playlists: Response[] = []
    page.on('response', (response) => {
      const url = response.url()
      if (url.startsWith(edgeUrl + '/')) {
        sent.push(response.request().allHeaders().then((h) => ({ url, status: response.status(), cookie: h.cookie })))
      }
      if (url.startsWith(`${appUrl}/hls/`)) playlists.push(response)
    })

    await page.goto(appUrl)
    await Promise.all([page.waitForURL(`${appUrl}/`), page.click('button[value="alice"]')])
    await page.goto(`${appUrl}/courses/hls-basics/cookieless`)
    await page.waitForFunction('document.getElementById("video").currentTime > 1', null, { timeout: 30_000 })
    const position = await page.evaluate('document.getElementById("video").currentTime') as number
    await page.waitForFunction(`document.getElementById("video").currentTime > ${position + 0.5}`)
    t.pass(`currentTime advances (${position.toFixed(1)} s, then more)`)

    t.ok(playlists.length >= 1 && playlists.every((r) => r.status() === 200), 'the playlist came from the app\'s mirror')
    t.equal(await playlists[0]?.headerValue('content-type'), 'application/vnd.apple.mpegurl')
    const edgeRequests = await Promise.all(sent)
    const segments = edgeRequests.filter((r) => r.url.includes('.ts?'))
    t.ok(segments.length >= 1, `${segments.length} segments from the edge`)
    t.ok(segments.every((r) => r.status === 200 && /[?&]Policy=.+&Signature=.+&Key-Pair-Id=/.test(r.url)), 'each a signed URL answered 200')
    t.ok(edgeRequests.every((r) => !(r.cookie ?? '').includes('CloudFront-')), 'the edge never received a CloudFront cookie')
    const cloudfront = (await context.cookies()).filter((c) => c.name.startsWith('CloudFront-'))
    t.same(cloudfront, [], 'no CloudFront cookie in the browser')

    const other = await page.evaluate('fetch("/hls/courses/edge-caching/index.m3u8").then((r) => r.status)')
    t.equal(other, 403, "Bob's course: no playlist for Alice")
    t.same(pageErrors, [], 'no script errors')
  })
}
