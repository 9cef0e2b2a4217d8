// fastify-cloudfront-cookies/client in Debian's Chromium, against an app with the real plugin. The page runs
// on playwright's fake clock and the app's clock is moved with it, so hours of schedule take milliseconds.
import t, { type Test } from 'tap'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { BROWSER, keepAliveApp, launch, pause, setVisibility, until, type KeepAliveApp } from './serve.js'

interface Change { state: string, expires: number | null, status: number }

// A whole second, so that the Date header and the expiry (both in seconds) are exact.
const START = Math.ceil(Date.now() / 1000) * 1000 + 1000
const TTL = 60 // refreshBefore is then 20 s
const pageErrors: string[] = []

interface Session {
  server: KeepAliveApp
  context: BrowserContext
  page: Page
  changes: () => Promise<Change[]>
  /** Moves the page's clock, firing its timers, and the app's clock with it. */
  advance: (ms: number) => Promise<void>
  /** Waits a little and checks that nothing more was asked. */
  quiet: (count: number, what: string) => Promise<void>
  /**
   * Waits until the page has read `count` answers (or failures) to its end, and so scheduled what
   * comes next: the app receiving a request says nothing of when the page reads the answer.
   */
  read: (count: number) => Promise<void>
}

async function open (t: Test, browser: Browser, start = true): Promise<Session> {
  const server = await keepAliveApp({ ttl: TTL })
  t.teardown(() => server.app.close())
  server.clock.now = START
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(err.message))
  // Time flows until the page is loaded, then stands still: a minute of it is room for a slow machine.
  await page.clock.install({ time: START - 60_000 })
  await page.goto(server.url)
  await page.clock.pauseAt(START)
  // Counts the answers the page has read to their end (the keep-alive awaits arrayBuffer(), then
  // schedules), and the requests that failed.
  await page.evaluate(`(() => {
    const original = window.fetch.bind(window)
    window.answersRead = 0
    window.fetch = (...args) => original(...args).then((response) => {
      const read = response.arrayBuffer.bind(response)
      response.arrayBuffer = () => read().finally(() => { window.answersRead++ })
      return response
    }, (err) => { window.answersRead++; throw err })
  })()`)
  if (start) {
    await page.evaluate(`import('/client/index.js').then(({ keepGrantAlive }) => {
      window.changes = []
      window.keepAlive = keepGrantAlive({
        url: '/grant',
        request: () => ({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'at ' + Date.now() }),
        onChange: (change) => window.changes.push(change)
      })
    })`)
  }
  return {
    server,
    context,
    page,
    changes: () => page.evaluate('window.changes') as Promise<Change[]>,
    async advance (ms) {
      server.clock.now += ms
      await page.clock.runFor(ms)
    },
    async quiet (count, what) {
      await pause(300)
      t.equal(server.requests.length, count, what)
    },
    async read (count) {
      await until(`the page reading answer ${count}`, async () => (await page.evaluate('window.answersRead') as number) >= count)
    }
  }
}

if (BROWSER.path === undefined) {
  t.fail(BROWSER.message)
} else {
  t.test('keepGrantAlive in Chromium', async (t) => {
    const browser = await launch()
    t.teardown(() => browser.close())

    await t.test('asks at once, then halfway to each expiry; reports the first grant and each new one', async (t) => {
      const s = await open(t, browser)
      await until('the first answer', async () => (await s.changes()).length === 1)
      const first = s.server.requests[0]?.expires as number
      t.equal(first, START / 1000 + TTL, 'the app granted for the ttl')
      t.same(await s.changes(), [{ state: 'granted', expires: first, status: 200 }], 'granted, with the expiry header read')
      t.match(s.server.requests[0]?.body, /^at \d+$/, 'the request function made the body')
      t.equal(await s.page.evaluate('keepAlive.state'), 'granted')
      t.equal(await s.page.evaluate('keepAlive.expires'), first)

      await s.advance(29_000)
      await s.quiet(1, 'nothing asked before half the lifetime')
      await s.advance(2_000)
      await until('the halfway request', () => s.server.requests.length === 2)
      await s.read(2)
      t.equal(s.server.requests[1]?.expires, first, 'with 29 s left (more than refreshBefore) the app sends the same set back')
      await s.quiet(2, 'one request')
      t.equal((await s.changes()).length, 1, 'the same grant is no change')

      // 29 s were left at +31 s: the next look is 14.5 s later, when the app signs a new set.
      await s.advance(13_000)
      await s.quiet(2, 'nothing asked before half the remaining time')
      await s.advance(2_000)
      await until('a renewal', async () => (await s.changes()).length === 2)
      const renewed = (await s.changes())[1]
      t.same(renewed, { state: 'renewed', expires: START / 1000 + 46 + TTL, status: 200 }, 'renewed, 14 s before the first grant ended')
    })

    await t.test('after the computer slept: the wall clock is read every few seconds, not only when a timer ends', async (t) => {
      const s = await open(t, browser)
      await until('the first answer', async () => (await s.changes()).length === 1)
      // Sleep: the wall clock jumps 10 minutes, the timers do not move (as on Linux and macOS).
      s.server.clock.now += 600_000
      await s.page.clock.setSystemTime(s.server.clock.now)
      await s.quiet(1, 'a clock jump alone fires nothing')
      await s.advance(5_000)
      await until('a renewal after the sleep', async () => (await s.changes()).length === 2)
      t.equal(s.server.requests.length, 2, 'one request, within 5 s of waking (the grant was due 30 s after its start)')
      t.equal((await s.changes())[1]?.state, 'renewed', 'the app signed a new set (the old one had ended)')

      // A lid closed for 20 minutes, with timers that do run late: each due timer fires once, on opening.
      s.server.clock.now += 1_200_000
      await s.page.clock.fastForward(1_200_000)
      await until('a renewal after the lid opened', async () => (await s.changes()).length === 3)
      t.equal(s.server.requests.length, 3, 'one request')
    })

    await t.test('when the tab becomes visible again it asks at once: a sign-out elsewhere shows without waiting', async (t) => {
      const s = await open(t, browser)
      await until('the first answer', async () => (await s.changes()).length === 1)
      await setVisibility(s.page, 'hidden')
      await s.quiet(1, 'hiding asks nothing')
      await setVisibility(s.page, 'visible')
      await until('a request on becoming visible', () => s.server.requests.length === 2)
      await s.quiet(2, 'one request, the clock standing still')

      s.server.control.user = null // signed out in another tab
      await setVisibility(s.page, 'hidden')
      await setVisibility(s.page, 'visible')
      await until('the sign-out', async () => (await s.changes()).length === 2)
      const first = s.server.requests[0]?.expires
      t.same((await s.changes())[1], { state: 'signed-out', expires: first, status: 401 }, 'signed-out, with the last expiry known')
      t.equal(await s.page.evaluate('keepAlive.stopped'), true, 'and it stopped')

      await setVisibility(s.page, 'hidden')
      await setVisibility(s.page, 'visible')
      await s.advance(3_600_000)
      await s.quiet(3, 'nothing more is asked, whatever happens')
      t.equal(await s.page.evaluate('keepAlive.refresh()'), false, 'refresh() answers false without asking')
      await s.quiet(3, 'no request')
    })

    await t.test('a frozen tab resumed, a page restored from the back-forward cache: it asks at once', async (t) => {
      const s = await open(t, browser)
      await until('the first answer', async () => (await s.changes()).length === 1)
      // Chromium sends these itself when it unfreezes a background tab or restores a page; here, the same events.
      await s.page.evaluate("document.dispatchEvent(new Event('freeze'))")
      await s.quiet(1, 'freezing asks nothing')
      await s.page.evaluate("document.dispatchEvent(new Event('resume'))")
      await until('a request on resume', () => s.server.requests.length === 2)
      await s.page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: false }))")
      await s.quiet(2, 'a first page show asks nothing')
      await s.page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))")
      await until('a request on a restored page', () => s.server.requests.length === 3)
      await s.quiet(3, 'one request each, the clock standing still')
    })

    await t.test('refused: a 403 from the app, or a 2xx without a grant', async (t) => {
      const s = await open(t, browser)
      await until('the first answer', async () => (await s.changes()).length === 1)
      s.server.control.status = 403
      t.equal(await s.page.evaluate('keepAlive.refresh()'), false, 'refresh() resolves false')
      t.same((await s.changes())[1], { state: 'refused', expires: s.server.requests[0]?.expires, status: 403 })
      t.equal(await s.page.evaluate('keepAlive.stopped'), true, 'and it stopped')
      await s.advance(600_000)
      await s.quiet(2, 'nothing more is asked')

      const s2 = await open(t, browser, false)
      s2.server.control.noGrant = true
      await s2.page.evaluate(`import('/client/index.js').then(({ keepGrantAlive }) => {
        window.changes = []
        window.keepAlive = keepGrantAlive({ url: '/grant', onChange: (change) => window.changes.push(change) })
      })`)
      await until('the answer', async () => (await s2.changes()).length === 1)
      t.same(await s2.changes(), [{ state: 'refused', expires: null, status: 200 }], 'a 200 without the expiry header grants nothing')
    })

    await t.test('network errors, 5xx, 408 and 429 are retried with a growing delay, without a change of state', async (t) => {
      const s = await open(t, browser)
      await until('the first answer', async () => (await s.changes()).length === 1)
      s.server.control.status = 503
      await s.advance(30_000)
      await until('the halfway request', () => s.server.requests.length === 2)
      await s.read(2)
      await s.advance(999)
      await s.quiet(2, 'the first retry waits a second')
      await s.advance(1)
      await until('the first retry', () => s.server.requests.length === 3)
      await s.read(3)
      await s.advance(1_999)
      await s.quiet(3, 'the second waits two')
      await s.advance(1)
      await until('the second retry', () => s.server.requests.length === 4)
      s.server.control.status = 429
      await s.read(4)
      await s.advance(4_000)
      await until('the third retry, after four seconds', () => s.server.requests.length === 5)
      await s.read(5)
      t.same((await s.changes()).map((c) => c.state), ['granted'], 'no change reported')
      t.equal(await s.page.evaluate('keepAlive.stopped'), false, 'still running')

      // Offline: the request fails without reaching the app; coming back online asks at once.
      s.server.control.status = 200
      await s.context.setOffline(true)
      t.equal(await s.page.evaluate('keepAlive.refresh()'), false, 'offline, refresh() resolves false')
      await s.quiet(5, 'nothing reached the app')
      await s.context.setOffline(false)
      await until('a request on coming back online', () => s.server.requests.length === 6)
      // Five answers, the failure offline, and this one.
      await s.read(7)
      // Left at +37 s: 23 s, more than refreshBefore, so the same set; no change.
      t.same((await s.changes()).map((c) => c.state), ['granted'], 'the same grant again')
      await s.advance(12_000)
      await until('the renewal', async () => (await s.changes()).length === 2)
      t.equal((await s.changes())[1]?.state, 'renewed', 'and the schedule goes on')
    })

    await t.test('the answer is read to its end before anything is reported', async (t) => {
      const s = await open(t, browser, false)
      s.server.control.slowBody = 600
      await s.page.evaluate(`import('/client/index.js').then(({ keepGrantAlive }) => {
        window.changes = []
        window.keepAlive = keepGrantAlive({ url: '/grant', onChange: (change) => window.changes.push(change) })
      })`)
      let seenAt = 0
      await until('the answer', async () => {
        const seen = (await s.changes()).length === 1
        if (seen) seenAt = Date.now()
        return seen
      })
      const bodyEnd = s.server.requests[0]?.bodyEnd as number
      t.ok(bodyEnd > 0 && seenAt >= bodyEnd, `reported ${seenAt - bodyEnd} ms after the body's last byte was sent`)
    })

    await t.test('stop() and an aborted signal: nothing asked, nothing reported, an answer under way dropped', async (t) => {
      const s = await open(t, browser, false)
      s.server.control.slowBody = 400
      await s.page.evaluate(`import('/client/index.js').then(({ keepGrantAlive }) => {
        window.changes = []
        window.keepAlive = keepGrantAlive({ url: '/grant', onChange: (change) => window.changes.push(change) })
      })`)
      await until('the request', () => s.server.requests.length === 1)
      await s.page.evaluate('keepAlive.stop()')
      await pause(800)
      t.same(await s.changes(), [], 'the answer under way was dropped')
      t.equal(await s.page.evaluate('keepAlive.stopped'), true)
      await setVisibility(s.page, 'hidden')
      await setVisibility(s.page, 'visible')
      await s.context.setOffline(true)
      await s.context.setOffline(false)
      await s.advance(3_600_000)
      await s.quiet(1, 'no request after stop()')
      t.equal(await s.page.evaluate('keepAlive.refresh()'), false, 'refresh() answers false')

      s.server.control.slowBody = 0
      await s.page.evaluate(`import('/client/index.js').then(({ keepGrantAlive }) => {
        window.controller = new AbortController()
        window.keepAlive2 = keepGrantAlive({ url: '/grant', signal: controller.signal, onChange: (change) => window.changes.push(change) })
      })`)
      await until('the first answer', async () => (await s.changes()).length === 1)
      await s.page.evaluate('controller.abort()')
      t.equal(await s.page.evaluate('keepAlive2.stopped'), true, 'aborting the signal stops it')
      await s.advance(3_600_000)
      await s.quiet(2, 'no request after the abort')
      const already = await s.page.evaluate(`import('/client/index.js').then(({ keepGrantAlive }) => {
        return keepGrantAlive({ url: '/grant', signal: AbortSignal.abort() }).stopped
      })`)
      t.equal(already, true, 'an already aborted signal never starts')
      await s.quiet(2, 'no request')
    })

    await t.test('wrong options are a TypeError that names the option', async (t) => {
      const s = await open(t, browser, false)
      const message = (options: string): Promise<unknown> => s.page.evaluate(`import('/client/index.js').then(({ keepGrantAlive }) => {
        try { keepGrantAlive(${options}); return 'no error' } catch (err) { return err.constructor.name + ': ' + err.message }
      })`)
      t.match(await message('undefined'), /^TypeError: keepGrantAlive: expected an options object/)
      t.match(await message('{}'), /^TypeError: keepGrantAlive: options\.url must be the URL of the app route/)
      t.match(await message("{ url: '/grant', expiresHeader: 'no spaces allowed' }"), /options\.expiresHeader must be a header name/)
      t.match(await message("{ url: '/grant', onChange: 'log' }"), /options\.onChange must be a function/)
      t.match(await message("{ url: '/grant', request: 'POST' }"), /options\.request must be fetch options/)
      t.match(await message("{ url: '/grant', signal: {} }"), /options\.signal must be an AbortSignal/)
      await s.quiet(0, 'nothing asked')
    })

    t.same(pageErrors, [], 'no script errors in the pages')
  })
}
