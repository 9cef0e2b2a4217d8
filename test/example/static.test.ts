// The example's static manifests page in a real browser: Debian's Chromium plays the course from the
// edge's templated playlists with hls.js, from the one signed URL the app put in the page. Every
// request to the edge carries the signed query and no cookie; Bob's course is refused with nothing signed.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBrowser } from '../helpers/browser.js'
import { startExample } from '../helpers/example.js'
import { chromium, type Page } from 'playwright-core'

const browser = findBrowser()
interface EdgeRequest { url: string, status: number, cookie: string | undefined }
const SIGNED = /\?(?:.*&)?Policy=[A-Za-z0-9_~-]+&Signature=[A-Za-z0-9_~-]+&Key-Pair-Id=[A-Z0-9]+$/

if (browser.path === undefined) {
  t.fail(browser.message)
} else {
  t.test('the static manifests page in Chromium', async (t) => {
    const keysDir = mkdtempSync(join(tmpdir(), 'cf-static-keys-'))
    const userDataDir = mkdtempSync(join(tmpdir(), 'cf-static-chromium-'))
    // One teardown, in order: the browser, then the example, then their folders.
    const closing: Array<() => Promise<void>> = []
    t.teardown(async () => {
      for (const close of closing.reverse()) await close()
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 })
      rmSync(keysDir, { recursive: true, force: true })
    })
    const { appUrl, edgeUrl, keyPairId, stop } = await startExample({ PORT: '0', EDGE_PORT: '0', KEYS_DIR: keysDir })
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
    /** Every request a page makes to the edge, with the cookie the browser sent (allHeaders: the network's). */
    const recordEdge = (p: Page): Array<Promise<EdgeRequest>> => {
      const requests: Array<Promise<EdgeRequest>> = []
      p.on('response', (response) => {
        const url = response.url()
        if (!url.startsWith(edgeUrl + '/')) return
        requests.push(response.request().allHeaders().then((h) => ({ url, status: response.status(), cookie: h.cookie })))
      })
      return requests
    }

    await page.goto(appUrl)
    await Promise.all([page.waitForURL(`${appUrl}/`), page.click('button[value="alice"]')])

    t.test("Alice's course plays from the one signed URL, every request signed, no cookie", async (t) => {
      await page.goto(`${appUrl}/courses/hls-basics`)
      t.equal(await page.locator('a[href="/courses/hls-basics/static"]').count(), 1, 'the course page links to the static page')
      // The course page has just set the cookies of /courses/hls-basics/ (they last the ttl, 6 s): they must not
      // reach /static/. The static page in a tab of its own, so that only its requests are counted.
      t.ok((await context.cookies()).some((c) => c.name === 'CloudFront-Signature'), 'the browser holds a cookie set')
      const player = await context.newPage()
      t.teardown(() => player.close())
      player.on('pageerror', (err) => pageErrors.push(err.message))
      const requests = recordEdge(player)
      const response = await player.goto(`${appUrl}/courses/hls-basics/static`)
      t.equal(response?.status(), 200)
      t.notOk(/CloudFront-/.test(await response?.headerValue('set-cookie') ?? ''), 'the page sets no CloudFront cookie')
      t.equal(await response?.headerValue('cache-control'), 'private, no-store', 'the page with the signed URL is not cached')
      await player.waitForFunction('document.getElementById("video").currentTime >= 3', null, { timeout: 60_000 })
      t.pass('3 s played')
      const mine = await Promise.all(requests)
      const paths = mine.map((r) => new URL(r.url).pathname)
      t.ok(paths.includes('/static/courses/hls-basics/index.m3u8'), 'the playlist from the edge')
      t.ok(paths.filter((p) => /^\/static\/courses\/hls-basics\/segment-\d+\.ts$/.test(p)).length >= 2, 'segments from the edge')
      t.same(mine.filter((r) => !SIGNED.test(r.url) || !r.url.endsWith(`&Key-Pair-Id=${keyPairId}`)), [],
        'every request carries Policy, Signature and the key pair ID in its query')
      t.same(mine.filter((r) => r.cookie !== undefined), [], 'no request carries a cookie')
      t.same(mine.filter((r) => r.status !== 200 && r.status !== 206), [], 'the edge answers each 200 or 206')
      t.equal(await player.locator('.refused').count(), 0, 'no refusal on the page')

      // The URL is a grant of this course's static folder only: the edge refuses it without its query, and
      // for Bob's course or the cookie folder of the same course.
      const url = await player.evaluate('document.getElementById("video").dataset.manifest') as string
      const query = url.slice(url.indexOf('?'))
      // A player keeps the URL for the whole viewing: it outlives the 16 s video twice over and a minute more,
      // however short the example's grants (6 s).
      // CloudFront's base64 writes +, = and / as -, _ and ~.
      const encoded = (new URL(url).searchParams.get('Policy') as string).replace(/[-_~]/g, (c) => ({ '-': '+', _: '=', '~': '/' })[c] as string)
      const policy = JSON.parse(Buffer.from(encoded, 'base64').toString())
      const until = policy.Statement[0].Condition.DateLessThan['AWS:EpochTime'] as number
      t.ok(until - Date.now() / 1000 >= 2 * 16 + 60 - 30, `the URL lasts the viewing (${Math.round(until - Date.now() / 1000)} s left)`)
      const status = (u: string): Promise<number> => fetch(u).then((r) => r.status)
      t.equal(await status(url), 200, 'the signed URL opens the playlist')
      t.equal(await status(url.slice(0, url.indexOf('?'))), 403, 'without its query: 403')
      t.equal(await status(`${edgeUrl}/static/courses/edge-caching/index.m3u8${query}`), 403, "Bob's static folder: 403")
      t.equal(await status(`${edgeUrl}/courses/hls-basics/index.m3u8${query}`), 403, 'the cookie folder: 403')
    })

    t.test("Bob's course is refused: the page says so, nothing signed", async (t) => {
      const bobs = await context.newPage()
      t.teardown(() => bobs.close())
      const requests = recordEdge(bobs)
      const response = await bobs.goto(`${appUrl}/courses/edge-caching/static`)
      t.equal(response?.status(), 403)
      const html = await response?.text() ?? ''
      t.notOk(/Policy=|Signature=|Key-Pair-Id=/.test(html), 'no signed query in the page')
      t.notOk(/CloudFront-/.test(await response?.headerValue('set-cookie') ?? ''), 'no CloudFront cookie')
      t.match(await bobs.locator('#refused').textContent(), /Refused: this is not your course/)
      t.equal(await bobs.locator('video').count(), 0, 'no player')
      t.equal(requests.length, 0, 'nothing asked of the edge')
    })

    t.test('the rule that names the static folder never sets a cookie on the app', async (t) => {
      const res = await page.request.get(`${appUrl}/static/courses/hls-basics/index.m3u8`)
      t.equal(res.status(), 404)
      t.notOk(/CloudFront-/.test(res.headers()['set-cookie'] ?? ''), 'no cookie')
    })

    t.test('no CloudFront cookie for /static/ in the browser', async (t) => {
      const cloudfront = (await context.cookies()).filter((c) => c.name.startsWith('CloudFront-'))
      t.same(cloudfront.filter((c) => !c.path.startsWith('/courses/')), [], 'only the course pages\' cookies, for /courses/')
      t.same(pageErrors, [], 'no script errors')
    })
  })
}
