// The example in a real browser: Debian's Chromium, driven by playwright-core (which never
// downloads a browser), plays a course through the local edge with the plugin's signed cookies.
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { chromium, type Page, type Response } from 'playwright-core'
import { findBrowser } from '../helpers/browser.js'
import { startExample } from '../helpers/example.js'

const browser = findBrowser()
// The example's default grant lifetime: the stream lasts 16 s, so playback sees renewals.
const TTL = 6
const ROOT = resolve(__dirname, '..', '..')
// The README's picture is rewritten only on request (UPDATE_SCREENSHOT=1), so a test run leaves the
// work tree clean; every run saves its own to test/.tmp/ (ignored by git).
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1'
  ? join(ROOT, 'docs', 'screenshot.png')
  : join(ROOT, 'test', '.tmp', 'screenshot.png')
const OWNED = '/courses/hls-basics/'
const OTHER = '/courses/edge-caching/'

interface EdgeHit {
  path: string
  status: number
  /** When the browser sent the request (epoch ms, the same clock as the app and the edge). */
  sentAt: number
}

/** Polls a condition (events recorded by listeners) until it holds; fails with `what` after `timeout` ms. */
async function until (what: string, condition: () => boolean | Promise<boolean>, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function currentTime (page: Page): Promise<number> {
  return page.evaluate('document.getElementById("video").currentTime') as Promise<number>
}

if (browser.path === undefined) {
  t.fail(browser.message)
} else {
  t.test('the example course player in Chromium', async (t) => {
    const keysDir = mkdtempSync(join(tmpdir(), 'cf-example-keys-'))
    const userDataDir = mkdtempSync(join(tmpdir(), 'cf-example-chromium-'))
    t.teardown(() => {
      rmSync(userDataDir, { recursive: true, force: true })
      rmSync(keysDir, { recursive: true, force: true })
    })

    // The first run creates the development key pair with the CLI, as `npm run example` does.
    const example = await startExample({ PORT: '0', EDGE_PORT: '0', KEYS_DIR: keysDir })
    t.teardown(() => example.stop())
    const { appUrl, edgeUrl } = example
    t.match(example.output(), /^Open http:\/\/localhost:\d+\n/, 'the startup output begins with the page to open')
    t.match(example.output(), /\(just created\)/, 'it says it created the key pair')
    t.match(example.output(), new RegExp(`grants last ${TTL} s`), `grants last ${TTL} s by default`)
    t.ok(['private.pem', 'public.pem', 'key-id'].every((f) => existsSync(join(keysDir, f))), 'in the keys folder')
    t.match(example.keyPairId, /^K[A-Z2-7]{13}$/, 'with the key ID printed by cloudfront-cookies keygen')

    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.path,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'
      ],
      viewport: { width: 900, height: 760 },
      timeout: 60_000
    })
    t.teardown(() => context.close())
    const page = context.pages()[0] ?? await context.newPage()
    page.setDefaultTimeout(30_000)

    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    const edgeHits: EdgeHit[] = []
    const grantsSeen: number[] = []
    page.on('response', (response: Response) => {
      const url = response.url()
      if (url.startsWith(edgeUrl + '/')) {
        edgeHits.push({ path: new URL(url).pathname, status: response.status(), sentAt: response.request().timing().startTime })
      } else if (url.startsWith(appUrl + '/')) {
        const expires = response.headers()['cloudfront-grant-expires']
        if (expires !== undefined) grantsSeen.push(Number(expires))
      }
    })
    // The keep-alive's requests, and those whose response was read to its end.
    const progress = { sent: 0, finished: 0, failed: 0 }
    const isProgress = (url: string): boolean => url.startsWith(appUrl + '/') && url.endsWith('/progress')
    page.on('request', (request) => { if (isProgress(request.url())) progress.sent++ })
    page.on('requestfinished', (request) => { if (isProgress(request.url())) progress.finished++ })
    page.on('requestfailed', (request) => { if (isProgress(request.url())) progress.failed++ })
    const hits = (prefix: string, status?: number): EdgeHit[] =>
      edgeHits.filter((h) => h.path.startsWith(prefix) && (status === undefined || h.status === status))
    const segments = (prefix: string, status?: number): EdgeHit[] => hits(prefix, status).filter((h) => h.path.endsWith('.ts'))

    let firstExpires = 0

    await t.test('sign in, open the owned course: the playlist and segments load with 200 and the video plays', async (t) => {
      await page.goto(appUrl)
      await Promise.all([page.waitForURL(`${appUrl}/`), page.click('button[value="alice"]')])
      t.match(await page.textContent('header'), /Signed in as Alice/)

      const [coursePage] = await Promise.all([
        page.waitForResponse(`${appUrl}/courses/hls-basics`),
        page.click('a[href="/courses/hls-basics"]')
      ])
      t.equal(coursePage.status(), 200)
      firstExpires = Number(await coursePage.headerValue('cloudfront-grant-expires'))
      const now = Date.now() / 1000
      t.ok(firstExpires > now && firstExpires <= now + TTL + 1, `the page response announces the grant's end (${firstExpires})`)
      const cookies = (await context.cookies(`${edgeUrl}${OWNED}`)).filter((c) => c.name.startsWith('CloudFront-'))
      t.same(cookies.map((c) => c.name).sort(), ['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature'])
      for (const c of cookies) {
        t.match(c, { path: OWNED, httpOnly: true, secure: true, sameSite: 'Lax' }, `${c.name}: Path is the course folder, HttpOnly, Secure, Lax`)
      }

      await page.waitForFunction('document.getElementById("video").currentTime > 1', null, { timeout: 30_000 })
      t.ok(hits(`${OWNED}index.m3u8`, 200).length >= 1, 'the playlist answered 200 at the edge')
      t.ok(segments(OWNED, 200).length >= 1, 'segments answered 200 at the edge')
      t.same(hits(OWNED).filter((h) => h.status !== 200 && h.status !== 304), [], 'nothing else answered for the course')
      t.equal(await page.evaluate('document.getElementById("video").paused'), false, 'the video is playing')
      t.equal(await page.isHidden('#player-details'), true, 'no error details to show')
    })

    await t.test('with the default ttl, playback outlives two grants: the keep-alive renews them, the page counts them', async (t) => {
      const expiredAt = firstExpires * 1000
      const renewals = async (): Promise<number> => Number((await page.textContent('#renewals'))?.split(' ')[0])
      const ended = (): Promise<boolean> => page.evaluate('document.getElementById("video").ended') as Promise<boolean>
      await until('two renewals, or the end of the video', async () => (await renewals()) >= 2 || await ended(), 45_000)
      const counted = await renewals()
      t.equal(await ended(), false, `the video was still playing at the second renewal (at ${(await currentTime(page)).toFixed(1)} s)`)
      t.ok(counted >= 2, `the page counted ${counted} renewals`)
      t.ok(new Set(grantsSeen.filter((e) => e > firstExpires)).size >= 2, 'the app answered with two new expiries')
      t.match(await page.textContent('#grant'), /valid \d+ s more/, 'the page shows how long the grant lasts')

      // A segment the browser asked for after the first grant had ended, answered 200: only a renewed set opens it.
      await until('a segment requested after the first grant expired', () => segments(OWNED, 200).some((h) => h.sentAt > expiredAt + 250), 45_000)
      const late = segments(OWNED).filter((h) => h.sentAt > expiredAt + 250)
      t.ok(late.length >= 1 && late.every((h) => h.status === 200), `segments requested after the first expiry answered 200 (${late.map((h) => h.path.split('/').pop()).join(', ')})`)
      t.same(hits(OWNED, 403), [], 'the edge never refused the course during playback')
      t.match(await page.textContent('#player'), /^(playing|ended)/, 'the player says it plays')

      mkdirSync(dirname(SCREENSHOT), { recursive: true })
      await page.screenshot({ path: SCREENSHOT })
      t.ok(statSync(SCREENSHOT).size > 10_000, `the screenshot is saved (${SCREENSHOT})`)

      await until('every progress response read', () => progress.finished + progress.failed === progress.sent)
      t.ok(progress.sent >= 3, `${progress.sent} progress reports`)
      t.same(progress, { sent: progress.sent, finished: progress.sent, failed: 0 }, 'each one completed, none pending or failed')
    })

    await t.test('the DASH rendition: dash.js plays the course\'s MPD and its segments with the same cookies', async (t) => {
      const from = edgeHits.length
      await page.goto(`${appUrl}/courses/hls-basics/dash`)
      await page.waitForFunction('document.getElementById("video").currentTime >= 3', null, { timeout: 60_000 })
      const seen = edgeHits.slice(from)
      t.ok(seen.some((h) => h.path === `${OWNED}dash/manifest.mpd` && h.status === 200), 'the MPD answered 200 at the edge')
      t.ok(seen.filter((h) => h.path.startsWith(`${OWNED}dash/`) && h.path.endsWith('.m4s') && h.status === 200).length >= 4, 'its segments answered 200')
      t.same(seen.filter((h) => h.status !== 200 && h.status !== 304), [], 'nothing refused')
      t.equal(await page.textContent('#player'), 'playing', 'the page says it plays')

      const [other] = await Promise.all([page.waitForResponse(`${appUrl}/courses/edge-caching/dash`), page.goto(`${appUrl}/courses/edge-caching/dash`)])
      t.equal(await other.headerValue('cloudfront-grant-expires'), null, "Bob's course: the page opens without a grant")
      await page.waitForSelector('#player.refused')
      t.match(await page.textContent('#player'), /refused/, 'the page says the edge refused it')
      // dash.js may give up on a retry the edge never logs: what matters is that nothing of the course was served.
      t.same(hits(OTHER).filter((h) => h.status !== 403), [], 'the edge served nothing of the course it refused')
    })

    await t.test('at phone width (390 px) the course page fits, and plays', async (t) => {
      const phone = await context.newPage()
      t.teardown(() => phone.close())
      phone.on('pageerror', (err) => pageErrors.push(err.message))
      await phone.setViewportSize({ width: 390, height: 844 })
      await phone.goto(`${appUrl}/courses/hls-basics`)
      await phone.waitForFunction('document.getElementById("video").currentTime > 1', null, { timeout: 30_000 })
      const layout = await phone.evaluate(`(() => {
        const box = (selector) => { const r = document.querySelector(selector).getBoundingClientRect(); return { left: r.left, right: r.right } }
        return {
          viewport: window.innerWidth,
          scrollWidth: document.documentElement.scrollWidth,
          video: box('#video'),
          header: box('header'),
          player: box('#player'),
          media: box('dd code')
        }
      })()`) as { viewport: number, scrollWidth: number, [name: string]: number | { left: number, right: number } }
      t.equal(layout.viewport, 390)
      t.ok(layout.scrollWidth <= 390, `nothing scrolls sideways (content ${layout.scrollWidth} px wide)`)
      for (const name of ['video', 'header', 'player', 'media']) {
        const box = layout[name] as { left: number, right: number }
        t.ok(box.left >= 0 && box.right <= 390, `${name} within the screen (${Math.round(box.left)}–${Math.round(box.right)} px)`)
      }
      t.ok((layout.video as { left: number, right: number }).right - (layout.video as { left: number, right: number }).left >= 300, 'the video takes the width')
      await phone.screenshot({ path: join(ROOT, 'test', '.tmp', 'phone.png') })
    })

    await t.test("the other user's course: the page opens, says at once that it holds no grant, the edge answers 403", async (t) => {
      const [coursePage] = await Promise.all([
        page.waitForResponse(`${appUrl}/courses/edge-caching`),
        page.goto(`${appUrl}/courses/edge-caching`)
      ])
      t.equal(coursePage.status(), 200, 'the page itself opens')
      t.equal(await coursePage.headerValue('cloudfront-grant-expires'), null, 'but carries no grant')
      // Whichever comes first, the app's refusal of the keep-alive or the edge's of the playlist, the page says it.
      await page.waitForSelector('#player.refused')
      const said = await page.textContent('#player')
      t.match(said, /refused/, 'the player says so')
      t.notMatch(said, /Error|HTTP|\d{3}/, `in words (${said})`)
      t.match(await page.textContent('#player-details code'), /HTTP 403/, 'the status is in the details')
      await page.waitForSelector('#grant.refused')
      t.match(await page.textContent('#grant'), /not your course/, 'and that this is not her course')
      t.same(hits(OTHER).filter((h) => h.status !== 403), [], 'the edge answered nothing but 403 for the course')

      const ask = (file: string): Promise<unknown> =>
        page.evaluate(`fetch(${JSON.stringify(`${edgeUrl}${OTHER}${file}`)}, { credentials: 'include' }).then(async (r) => [r.status, await r.text()])`)
      const [status, body] = await ask('index.m3u8') as [number, string]
      t.equal(status, 403, 'the edge refuses the playlist')
      // Alice's cookies have her course's folder as their Path: the browser does not even send them here.
      t.match(body, /<Code>MissingKey<\/Code>/, "Alice's cookies are not sent for Bob's course")
      t.equal((await ask('segment-00.ts') as [number])[0], 403, 'a segment of the other course answers 403')
    })

    await t.test('signed out in another tab: the playing page says so at once and stops; the edge refuses', async (t) => {
      await page.goto(`${appUrl}/courses/hls-basics`)
      await page.waitForFunction('document.getElementById("video").currentTime > 1', null, { timeout: 30_000 })
      t.equal(await page.textContent('#player'), 'playing')
      const segment = `${edgeUrl}${OWNED}segment-07.ts`
      const fetchStatus = `fetch(${JSON.stringify(segment)}, { credentials: 'include' }).then((r) => r.status)`
      t.equal(await page.evaluate(fetchStatus), 200, 'before sign-out, a segment of the owned course opens')

      const other = await context.newPage()
      t.teardown(() => other.close())
      await other.goto(appUrl)
      const signedOutAt = Date.now()
      await Promise.all([other.waitForURL(`${appUrl}/`), other.click('header button[type="submit"]')])
      t.match(await other.textContent('main'), /Sign in/, 'the other tab is signed out')
      // A renewal the playing tab sent before the sign-out may still answer after it, with a set of its own
      // (the session was valid when it was asked): that set lasts one TTL at most, and is never renewed.
      const left = async (): Promise<unknown[]> => (await context.cookies(`${edgeUrl}${OWNED}`)).filter((c) => c.name.startsWith('CloudFront-'))
      await until('the course cookies cleared', async () => (await left()).length === 0, (TTL + 2) * 1000)
      t.same(await left(), [], 'the course cookies were cleared')

      await page.waitForSelector('#player.refused', { timeout: 10_000 })
      const delay = Date.now() - signedOutAt
      t.match(await page.textContent('#player'), /signed out/, `the playing page says it was signed out (${delay} ms after the sign-out)`)
      t.match(await page.textContent('#grant'), /signed out/, 'and that it holds no grant')
      // This page never lost the focus: the refusal itself made it ask who is signed in.
      await page.waitForFunction('document.getElementById("account").dataset.user === ""', null, { timeout: 10_000 })
      t.match(await page.textContent('header'), /Signed out/, 'its header says it is signed out')
      t.notMatch(await page.textContent('header'), /Alice/, 'and no longer names Alice')
      t.equal(await page.evaluate('document.getElementById("video").paused'), true, 'the video stopped')
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      t.notMatch(await page.textContent('#player'), /playing/, 'and it stays stopped')
      t.equal(await page.evaluate(fetchStatus), 403, 'the same segment now answers 403')
    })

    t.same(pageErrors, [], 'no script errors in the pages')
  })
}
