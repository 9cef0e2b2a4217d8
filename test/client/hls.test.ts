// The hls.js hook of fastify-cloudfront-cookies/client in Debian's Chromium: hls.js plays a stream through
// the local edge with the real plugin's cookies; a segment the edge answers 403 costs one refresh and one retry.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page, Response } from 'playwright-core'
import { BROWSER, ROOT, cookieStack, launch, until, type KeepAliveApp } from './serve.js'

const OWNED = '/courses/hls-basics/'
const hlsScript = readFileSync(require.resolve('hls.js/dist/hls.min.js'))

interface Hit { path: string, status: number }
interface Change { state: string, expires: number | null, status: number }
interface HlsError { details: string, fatal: boolean, code: number | undefined, url: string | undefined }

function stack (t: Test): Promise<{ server: KeepAliveApp, edgeUrl: string }> {
  return cookieStack(t, {
    root: join(ROOT, 'example', 'media'),
    owned: OWNED,
    extra: (app, edgeUrl) => {
      app.get('/vendor/hls.min.js', async (_request, reply) => reply.type('text/javascript').send(hlsScript))
      app.get('/player', async (_request, reply) => reply.type('text/html').send(playerPage(`${edgeUrl}${OWNED}index.m3u8`)))
    }
  })
}

function playerPage (playlist: string): string {
  return `<!doctype html><title>player</title>
<video id="video" muted playsinline></video>
<script src="/vendor/hls.min.js"></script>
<script type="module">
  import { keepGrantAlive } from '/client/index.js'
  window.changes = []
  window.hlsErrors = []
  const video = document.getElementById('video')
  const keepAlive = window.keepAlive = keepGrantAlive({ url: '/grant', onChange: (change) => window.changes.push(change) })
  const hls = new Hls({
    loader: keepAlive.hlsLoader(Hls.DefaultConfig.loader),
    xhrSetup (xhr) { xhr.withCredentials = true },
    maxBufferLength: 4,
    maxMaxBufferLength: 6
  })
  hls.on(Hls.Events.ERROR, (_event, data) => {
    window.hlsErrors.push({ details: data.details, fatal: data.fatal, code: data.response?.code, url: data.frag?.relurl })
  })
  await keepAlive.refresh()
  hls.loadSource(${JSON.stringify(playlist)})
  hls.attachMedia(video)
  video.play()
</script>`
}

interface Player {
  context: BrowserContext
  page: Page
  hits: Hit[]
  grants: () => number
  changes: () => Promise<Change[]>
  hlsErrors: () => Promise<HlsError[]>
  time: () => Promise<number>
}

async function play (t: Test, browser: Browser, server: KeepAliveApp, edgeUrl: string): Promise<Player> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  const hits: Hit[] = []
  page.on('response', (response: Response) => {
    if (response.url().startsWith(edgeUrl + '/')) hits.push({ path: new URL(response.url()).pathname, status: response.status() })
  })
  const before = server.requests.length
  await page.goto(`${server.url}/player`)
  await page.waitForFunction('document.getElementById("video").currentTime > 1', null, { timeout: 30_000 })
  return {
    context,
    page,
    hits,
    grants: () => server.requests.length - before,
    changes: () => page.evaluate('window.changes') as Promise<Change[]>,
    hlsErrors: () => page.evaluate('window.hlsErrors') as Promise<HlsError[]>,
    time: () => page.evaluate('document.getElementById("video").currentTime') as Promise<number>
  }
}

async function clearCloudFrontCookies (context: BrowserContext): Promise<void> {
  await context.clearCookies({ name: /^CloudFront-/ })
}

if (BROWSER.path === undefined) {
  t.fail(BROWSER.message)
} else {
  t.test('the hls.js hook in Chromium', async (t) => {
    const browser = await launch()
    t.teardown(() => browser.close())
    const { server, edgeUrl } = await stack(t)

    await t.test('the cookies gone mid-stream: the 403 segment costs one refresh and one retry, and playback goes on', async (t) => {
      const p = await play(t, browser, server, edgeUrl)
      t.equal(p.grants(), 1, 'one grant at the start')
      t.same(p.hits.filter((h) => h.status !== 200), [], 'every request answered 200 so far')
      const from = p.hits.length
      await clearCloudFrontCookies(p.context)
      await until('a refused segment, then the same one answered 200', () => {
        const after = p.hits.slice(from)
        const refused = after.findIndex((h) => h.status === 403)
        return refused >= 0 && after.slice(refused + 1).some((h) => h.path === after[refused]?.path && h.status === 200)
      }, 30_000)
      const after = p.hits.slice(from)
      const refused = after.filter((h) => h.status === 403)
      t.equal(refused.length, 1, `one request refused (${refused[0]?.path})`)
      t.equal(p.grants(), 2, 'one refresh')
      const position = await p.time()
      await until('the video to play on', async () => (await p.time()) > position + 0.5)
      t.same((await p.hlsErrors()).filter((e) => e.code === 403), [], 'hls.js never saw the 403')
      t.same((await p.changes()).map((c) => c.state), ['granted'], 'the same grant, sent again: no change')
    })

    await t.test('signed out meanwhile: one refresh, no retry, and hls.js gets the 403', async (t) => {
      const p = await play(t, browser, server, edgeUrl)
      const from = p.hits.length
      server.control.user = null
      t.teardown(() => { server.control.user = 'ada' })
      await clearCloudFrontCookies(p.context)
      await until('hls.js to report the 403', async () => (await p.hlsErrors()).some((e) => e.code === 403), 30_000)
      const first = (await p.hlsErrors()).find((e) => e.code === 403) as HlsError
      const refused = p.hits.slice(from).filter((h) => h.status === 403)
      t.ok(refused.length >= 1 && refused[0]?.path.endsWith(first.url as string), `the segment refused is the one hls.js reports (${first.url})`)
      t.equal(refused.filter((h) => h.path === refused[0]?.path).length, 1, 'it was not asked again')
      t.equal(p.grants(), 2, 'one refresh')
      t.same((await p.changes()).map((c) => c.state), ['granted', 'signed-out'], 'the page heard of the sign-out')
    })

    await t.test('still refused after a successful refresh: exactly one retry, then hls.js gets the 403', async (t) => {
      const p = await play(t, browser, server, edgeUrl)
      const from = p.hits.length
      server.control.prefix = '/courses/edge-caching/' // the app now grants another folder
      t.teardown(() => { server.control.prefix = OWNED })
      await clearCloudFrontCookies(p.context)
      await until('hls.js to report the 403', async () => (await p.hlsErrors()).some((e) => e.code === 403), 30_000)
      const first = (await p.hlsErrors()).find((e) => e.code === 403) as HlsError
      const asked = p.hits.slice(from).filter((h) => h.path.endsWith(`/${first.url}`))
      t.same(asked.slice(0, 2).map((h) => h.status), [403, 403], `${first.url} asked twice, refused twice`)
      t.equal(p.grants(), 2, 'one refresh')
    })
  })
}
