// Signed cookies open DASH as they open HLS: one grant of the course's folder, and dash.js and Shaka Player
// in Debian's Chromium play every shape of MPD ffmpeg writes from the local edge, sending the cookies with
// each request (credentialed CORS). No URL carries a query. Without the cookies, the edge refuses the MPD.
import t from 'tap'
import type { Page, Response } from 'playwright-core'
import { dashCourse, DASH_SHAPES, type DashShape } from '../helpers/dash-media.js'
import { DASH_PLAYERS, PLAYER_PAGE, PLAYER_SCRIPTS, playFor } from '../helpers/dash-players.js'
import { BROWSER, cookieStack, launch } from './serve.js'

const OWNED = '/courses/42/'
const course = dashCourse('42')

interface Hit { url: string, status: number, cookie: boolean }

if (BROWSER.path === undefined) {
  t.fail(BROWSER.message)
} else {
  t.test('DASH with the cookie grant in Chromium', async (t) => {
    const browser = await launch()
    t.teardown(() => browser.close())
    const { server, edgeUrl } = await cookieStack(t, {
      root: course.root,
      owned: OWNED,
      extra: (app) => {
        for (const [path, script] of Object.entries(PLAYER_SCRIPTS)) app.get(path, async (_request, reply) => reply.type('text/javascript').send(script))
        // The page holds the grant through the browser module, as a course page would, once the test says so.
        app.get('/player', async (_request, reply) => reply.type('text/html').send(PLAYER_PAGE + `<script type="module">
          import { keepGrantAlive } from '/client/index.js'
          window.startGrant = () => { window.keepAlive = keepGrantAlive({ url: '/grant' }); return window.keepAlive.refresh() }
          </script>`))
      }
    })
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const page: Page = await context.newPage()
    page.setDefaultTimeout(60_000)
    // In the order the responses came; the request's headers (the cookie among them) are read asynchronously.
    const hits: Array<Promise<Hit>> = []
    page.on('response', (response: Response) => {
      if (!response.url().startsWith(edgeUrl + '/')) return
      hits.push(response.request().allHeaders().then((headers) => ({
        url: response.url(), status: response.status(), cookie: /CloudFront-Signature=/.test(headers.cookie ?? '')
      })))
    })
    const since = (from: number): Promise<Hit[]> => Promise.all(hits.slice(from))
    await page.goto(`${server.url}/player`)
    await page.waitForFunction('window.startGrant !== undefined')

    await t.test('without the grant: the edge refuses the MPD, and the player says so', async (t) => {
      const from = hits.length
      const played = await playFor(page, 'dash.js', `${edgeUrl}${course.mpds.number}`, { credentials: true })
      t.ok(played.errors.length > 0, `dash.js reports an error (${played.errors[0]})`)
      t.ok(played.time < 1, 'nothing played')
      t.ok((await since(from)).some((h) => h.url.endsWith('/manifest.mpd') && h.status === 403), 'the MPD answered 403')
    })

    await page.evaluate('window.startGrant()')
    const cookies = (await context.cookies(`${edgeUrl}${OWNED}`)).filter((c) => c.name.startsWith('CloudFront-'))
    t.same(cookies.map((c) => c.name).sort(), ['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature'], 'the grant set the cookies for the course folder')

    for (const player of DASH_PLAYERS) {
      for (const shape of Object.keys(DASH_SHAPES) as DashShape[]) {
        await t.test(`${player} plays ${DASH_SHAPES[shape]} with the cookies`, async (t) => {
          const from = hits.length
          const played = await playFor(page, player, `${edgeUrl}${course.mpds[shape]}`, { credentials: true })
          t.same(played.errors, [], 'no player error')
          t.ok(played.time >= 3, `3 s played (currentTime ${played.time.toFixed(1)})`)
          const seen = await since(from)
          t.ok(seen.length >= 3, `${seen.length} requests to the edge`)
          t.same(seen.filter((h) => h.status >= 300 || !h.cookie || h.url.includes('?')), [], 'each answered 2xx, with the cookies, without a query')
        })
      }
    }

    await t.test('the same player without credentials: no cookie goes, and the edge refuses the MPD', async (t) => {
      const from = hits.length
      const played = await playFor(page, 'Shaka Player', `${edgeUrl}${course.mpds.number}`, { credentials: false })
      t.match(played.errors.join('\n'), /Shaka error 1001 .*403/, 'Shaka reports the 403')
      t.ok((await since(from)).some((h) => h.url.endsWith('/manifest.mpd') && h.status === 403 && !h.cookie), 'the MPD answered 403, asked without cookies')
    })
  })
}
