// The example's pages in Chromium, beyond playback: the header at phone and desktop widths, the header
// kept true to the session when another tab signs out or in, the page opened on the wrong host name,
// and the words the player uses when it fails.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { findBrowser } from '../helpers/browser.js'
import { startExample } from '../helpers/example.js'

const browser = findBrowser()
// The phone the layout is judged on (an iPhone 12 to 15: 390 x 844 CSS pixels), and the header's budget there.
const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1280, height: 800 }
const HEADER_MAX = 64

interface Box { top: number, bottom: number, left: number, right: number, width: number, height: number }

function box (page: Page, selector: string): Promise<Box> {
  return page.evaluate(`(() => {
    const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect()
    return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height }
  })()`) as Promise<Box>
}

function headerText (page: Page): Promise<string> {
  return page.evaluate('document.querySelector("header").innerText.replace(/\\s+/g, " ")') as Promise<string>
}

if (browser.path === undefined) {
  t.fail(browser.message)
} else {
  t.test('the example pages in Chromium', async (t) => {
    const keysDir = mkdtempSync(join(tmpdir(), 'cf-page-keys-'))
    const userDataDir = mkdtempSync(join(tmpdir(), 'cf-page-chromium-'))
    // One teardown, in order: the browser, then the example, then their folders.
    const closing: Array<() => Promise<void>> = []
    t.teardown(async () => {
      for (const close of closing.reverse()) await close()
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 })
      rmSync(keysDir, { recursive: true, force: true })
    })
    const { appUrl, stop } = await startExample({ PORT: '0', EDGE_PORT: '0', KEYS_DIR: keysDir })
    closing.push(stop)
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.path,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000
    })
    closing.push(() => context.close())
    const pageErrors: string[] = []
    const open = async (viewport = DESKTOP): Promise<Page> => {
      const page = await context.newPage()
      page.setDefaultTimeout(30_000)
      page.on('pageerror', (err) => pageErrors.push(err.message))
      await page.setViewportSize(viewport)
      return page
    }
    const signIn = async (page: Page, user: string, base = appUrl): Promise<void> => {
      await page.goto(base)
      await Promise.all([page.waitForURL(`${base}/`), page.click(`button[value="${user}"]`)])
    }

    await t.test(`at ${PHONE.width} px the header is one line, at most ${HEADER_MAX} px tall, and still names the user`, async (t) => {
      const page = await open(PHONE)
      t.teardown(() => page.close())
      await page.goto(appUrl)
      const signedOut = await box(page, 'header')
      t.ok(signedOut.height <= HEADER_MAX, `signed out: ${signedOut.height} px tall`)

      await signIn(page, 'alice')
      for (const path of ['/', '/courses/hls-basics']) {
        await page.goto(`${appUrl}${path}`)
        const header = await box(page, 'header')
        t.ok(header.height <= HEADER_MAX, `${path}: the header is ${header.height} px tall`)
        t.equal(await page.evaluate('document.documentElement.scrollWidth'), PHONE.width, `${path}: nothing scrolls sideways`)
        for (const part of ['header h1 a', '#account strong', '#account button']) {
          const b = await box(page, part)
          t.ok(b.width > 0 && b.left >= 0 && b.right <= PHONE.width && b.top >= header.top && b.bottom <= header.bottom,
            `${path}: ${part} is shown, inside the header (${Math.round(b.left)}–${Math.round(b.right)} px)`)
        }
        t.equal(await page.textContent('#account strong'), 'Alice')
        // The words left out of sight stay for screen readers: the header's text is whole.
        t.match(await page.textContent('header'), /Signed in as Alice/, `${path}: the header still reads "Signed in as Alice" aloud`)
        t.ok((await box(page, '#account .wide')).width <= 1, `${path}: "Signed in as" is out of sight`)
      }
    })

    await t.test(`at ${DESKTOP.width} px the header says it all, on one line`, async (t) => {
      const page = await open(DESKTOP)
      t.teardown(() => page.close())
      await page.goto(`${appUrl}/courses/hls-basics`)
      const header = await box(page, 'header')
      t.ok(header.height <= HEADER_MAX, `the header is ${header.height} px tall`)
      t.match(await headerText(page), /^Course player · fastify-cloudfront-cookies example Signed in as Alice Sign out$/, 'every word shown')
      t.ok((await box(page, '#account .wide')).width > 50, '"Signed in as" is shown')
      t.ok((await box(page, 'h1 .wide')).width > 100, 'and the subtitle')
    })

    await t.test('signed out in another tab: the header says so when the page comes back into view', async (t) => {
      const page = await open()
      t.teardown(() => page.close())
      await page.goto(appUrl)
      // Chromium driven by playwright tells every page it has the focus; this one is told the truth (after its
      // navigation, which would undo it), so that it sees the focus leave and come back as a tab switch makes it.
      await (await context.newCDPSession(page)).send('Emulation.setFocusEmulationEnabled', { enabled: false })
      t.match(await headerText(page), /Signed in as Alice/)
      const asked: string[] = []
      page.on('request', (request) => { if (request.url() === `${appUrl}/session`) asked.push(request.method()) })

      const other = await open()
      t.teardown(() => other.close())
      await other.bringToFront()
      const before = asked.length
      await page.bringToFront()
      t.ok(await eventually(() => asked.length > before), 'back in view, the page asks who is signed in')
      t.match(await headerText(page), /Signed in as Alice Sign out/, 'nothing changed: the header stays as it is')
      // A phone's browser tells a tab shown again with visibilitychange alone (here the state is already "visible").
      const shown = asked.length
      await page.evaluate('document.dispatchEvent(new Event("visibilitychange"))')
      t.ok(await eventually(() => asked.length > shown), 'a page shown again asks too')

      await other.bringToFront()
      await other.goto(appUrl)
      await Promise.all([other.waitForURL(`${appUrl}/`), other.click('header button[type="submit"]')])
      t.match(await other.textContent('main'), /Sign in/, 'the other tab signed out')
      t.match(await headerText(page), /Signed in as Alice/, 'the page out of view has not asked yet')

      await page.bringToFront()
      await page.waitForFunction('document.getElementById("account").dataset.user === ""')
      t.match(await headerText(page), /Signed out Sign in$/, 'back in view, the header says it is signed out')
      t.notMatch(await headerText(page), /Alice/, 'and names nobody')
      t.equal(await page.getAttribute('#account a', 'href'), '/', 'with a link to sign in')
      t.equal(await page.locator('#account button').count(), 0, 'and no sign-out button')

      // Signed in as somebody else: the header follows, and its button signs that user out.
      await other.bringToFront()
      await signIn(other, 'bob')
      await page.bringToFront()
      await page.waitForFunction('document.getElementById("account").dataset.user === "bob"')
      t.match(await headerText(page), /Signed in as Bob Sign out$/, 'back in view, the header names Bob')
      await Promise.all([page.waitForURL(`${appUrl}/`), page.click('#account button')])
      t.match(await page.textContent('main'), /Sign in/, 'the header\'s new button signs out')
      t.equal(await page.evaluate('fetch("/session").then((r) => r.json()).then((s) => s.user)'), null, 'the app agrees')
    })

    await t.test('GET /session answers who is signed in, never from a cache', async (t) => {
      const answer = async (cookie?: string): Promise<[string | null, unknown]> => {
        const response = await fetch(`${appUrl}/session`, cookie ? { headers: { cookie } } : {})
        return [response.headers.get('cache-control'), await response.json()]
      }
      t.same(await answer(), ['no-store', { user: null }], 'nobody, without a session')
      t.same(await answer('session=alice'), ['no-store', { user: null }], 'nobody, with an unsigned session cookie')
      const page = await open()
      t.teardown(() => page.close())
      await signIn(page, 'alice')
      const session = (await context.cookies(appUrl)).find((c) => c.name === 'session')
      t.same(await answer(`session=${session?.value}`), ['no-store', { user: { id: 'alice', name: 'Alice' } }], 'Alice, with hers')
    })

    await t.test('opened on 127.0.0.1: the page says once where to open it, and the player says in plain words that it failed', async (t) => {
      const page = await open()
      t.teardown(() => page.close())
      const wrongHost = appUrl.replace('localhost', '127.0.0.1')
      await signIn(page, 'alice', wrongHost)
      await page.goto(`${wrongHost}/courses/hls-basics`)
      await page.waitForSelector('#why:not([hidden])')
      const right = `${appUrl}/courses/hls-basics`
      const why = await page.innerText('#why')
      t.equal(why.split(right).length - 1, 1, `the right address appears once:\n${why}`)
      t.equal(await page.getAttribute('#why a', 'href'), right, 'as the link to follow')
      t.match(await page.textContent('#why a'), /^Open http:\/\/localhost:\d+\/courses\/hls-basics instead$/)
      t.match(why, /cookies per host name/, 'after the reason')

      await page.waitForSelector('#player.refused')
      const said = await page.textContent('#player') as string
      t.match(said, /^The video could not be loaded: .+ Reload the page\.$/, `the player says it in words: ${said}`)
      t.notMatch(said, /Error|manifest|HTTP|\(\d+\)/, 'without hls.js\'s terms')
      t.equal(await page.isVisible('#player-details'), true, 'those are kept apart')
      t.equal(await page.getAttribute('#player-details', 'open'), null, 'folded')
      t.match(await page.textContent('#player-details code'), /^networkError: manifestLoadError, http:\/\/localhost:\d+\/courses\/hls-basics\/index\.m3u8$/, 'hls.js\'s terms, in the details')
    })

    await t.test('each kind of player failure in plain words; its terms apart, with no signature', async (t) => {
      const page = await open()
      t.teardown(() => page.close())
      await page.goto(appUrl)
      const describe = (data: unknown): Promise<{ text: string, detail: string }> =>
        page.evaluate(`import('/player-errors.js').then((m) => m.describePlayerError(${JSON.stringify(data)}, 'REFUSED'))`) as Promise<{ text: string, detail: string }>
      const segment = 'http://localhost:3001/courses/hls-basics/segment-03.ts?Policy=eyJTdGF0ZW1lbnQiOltd&Signature=c2lnbmF0dXJl&Key-Pair-Id=K2JCJMDEHXQW5F'
      const cases: Array<[string, object, RegExp, RegExp]> = [
        ['a refused playlist', { type: 'networkError', details: 'manifestLoadError', response: { code: 403 } }, /^REFUSED$/, /^networkError: manifestLoadError, HTTP 403$/],
        ['a refused signed segment', { type: 'networkError', details: 'fragLoadError', frag: { url: segment }, response: { code: 403 } }, /^REFUSED$/,
          /^networkError: fragLoadError, HTTP 403, http:\/\/localhost:3001\/courses\/hls-basics\/segment-03\.ts$/],
        ['a missing segment', { type: 'networkError', details: 'fragLoadError', frag: { url: segment }, response: { code: 404 } }, /^Part of the video could not be found/, /HTTP 404/],
        ['a server error', { type: 'networkError', details: 'manifestLoadError', response: { code: 502 } }, /^The video could not be loaded: the media server had a problem/, /HTTP 502/],
        ['a timeout', { type: 'networkError', details: 'manifestLoadTimeOut' }, /took too long/, /^networkError: manifestLoadTimeOut$/],
        ['no readable answer', { type: 'networkError', details: 'manifestLoadError', response: { code: 0 } }, /your access may have expired/, /^networkError: manifestLoadError$/],
        ['an unreadable playlist', { type: 'networkError', details: 'manifestParsingError' }, /could not be read/, /manifestParsingError/],
        ['undecodable media', { type: 'mediaError', details: 'bufferAppendError' }, /could not be played: this browser could not decode it/, /^mediaError: bufferAppendError$/],
        ['anything else', { type: 'otherError', details: 'internalException' }, /^The video stopped because of an error\. Reload the page\.$/, /internalException/]
      ]
      for (const [what, data, text, detail] of cases) {
        const said = await describe(data)
        t.match(said.text, text, `${what}: ${said.text}`)
        t.notMatch(said.text, /Error|TimeOut|HTTP|\d{3}/, `${what}: no technical term in the words`)
        t.match(said.detail, detail, `${what}: ${said.detail}`)
        t.notMatch(said.detail, /Policy|Signature|Key-Pair-Id|\?/, `${what}: nothing signed in the details`)
      }
    })

    t.same(pageErrors, [], 'no script errors in the pages')
  })
}

/** Whether the condition (on events recorded by listeners) comes to hold within 30 s. */
async function eventually (condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  return condition()
}
