// Variables mode in a real player: Debian's Chromium runs hls.js, which implements EXT-X-DEFINE,
// on a course mirrored with `variables: true`; the segments come from the local edge with the
// substituted signed query and no cookie. (ffmpeg 5.1 does not implement EXT-X-DEFINE, hence hls.js.)
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'
import { createEdgeServer } from '../../src/edge/index.js'
import { findBrowser } from '../helpers/browser.js'
import { listen, rsaKeys, tempDir } from '../edge/helpers.js'
import { makeCourse } from '../helpers/media.js'
import { fastifyHost } from './apps.js'

const browser = findBrowser()
// The page's origin (loopback, as the edge is: Chromium blocks a public page from reaching it), served
// by the browser's request routing, which passes /hls/ on to the app.
const PAGE = 'http://127.0.0.1:9'
const HLS_JS = readFileSync(resolve(__dirname, '..', '..', 'node_modules', 'hls.js', 'dist', 'hls.min.js'))
const HTML = `<!doctype html><video id="video" muted></video><script src="/hls.js"></script><script>
const hls = new Hls({ xhrSetup: (xhr) => { xhr.withCredentials = false } })
hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) window.fatal = data.details })
hls.loadSource('/hls/courses/42/ts/master.m3u8')
hls.attachMedia(document.getElementById('video'))
document.getElementById('video').play()
</script>`

if (browser.path === undefined) {
  t.fail(browser.message)
} else {
  t.test('hls.js plays a variables-mode course through the mirror and the edge, with no cookies', async (t) => {
    const keys = rsaKeys()
    const root = tempDir(t, 'cf-hlsjs-vars-')
    makeCourse(root, '42')
    const edge = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { root }, cors: { origins: [PAGE] } })
    const edgeUrl = `http://127.0.0.1:${await listen(edge)}`
    t.teardown(() => edge.close())
    const app = await fastifyHost.start({
      keyPairId: 'K1',
      privateKey: keys.privateKey,
      distribution: edgeUrl,
      rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
      getUser: (req) => (typeof req.headers['x-user'] === 'string' ? req.headers['x-user'] : undefined),
      authorize: 'any-signed-in-user',
      playlists: { prefix: '/hls', origin: { root }, variables: true }
    })
    t.teardown(() => app.close())
    const userDataDir = mkdtempSync(join(tmpdir(), 'cf-hlsjs-vars-chromium-'))
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.path,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
        // The page is routed, not loaded from loopback: Chromium would otherwise refuse it the loopback edge.
        '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests'],
      timeout: 60_000
    })
    t.teardown(async () => {
      await context.close()
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 })
    })
    const page = context.pages()[0] ?? await context.newPage()
    page.setDefaultTimeout(30_000)
    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    const playlists: string[] = []
    await page.route(PAGE + '/**', async (route) => {
      const url = new URL(route.request().url())
      if (url.pathname === '/') return await route.fulfill({ contentType: 'text/html', body: HTML })
      if (url.pathname === '/hls.js') return await route.fulfill({ contentType: 'text/javascript', body: HLS_JS })
      // The signed-in user, as a session would say; the body is the app's, unchanged.
      const response = await route.fetch({ url: app.url + url.pathname, headers: { ...route.request().headers(), 'x-user': 'alice' } })
      playlists.push(await response.text())
      await route.fulfill({ response })
    })
    const edgeRequests: Array<{ url: string, status: number, cookie: string | undefined }> = []
    page.on('response', (response) => {
      if (response.url().startsWith(edgeUrl + '/')) edgeRequests.push({ url: response.url(), status: response.status(), cookie: response.request().headers().cookie })
    })

    await page.goto(PAGE + '/')
    const logs: string[] = []
    page.on('console', (m) => logs.push(m.text()))
    await page.waitForFunction('window.fatal !== undefined || document.getElementById("video").currentTime > 1', null, { timeout: 30_000 })
      .catch((err: Error) => { throw new Error(`${err.message}\n${JSON.stringify({ logs, pageErrors, playlists: playlists.map((p) => p.slice(0, 300)), edgeRequests: edgeRequests.slice(0, 3) })}`) })
    t.equal(await page.evaluate('window.fatal'), undefined, 'no fatal hls.js error')
    const position = await page.evaluate('document.getElementById("video").currentTime') as number
    await page.waitForFunction(`document.getElementById("video").currentTime > ${position + 0.5}`)
    t.pass(`currentTime advances (${position.toFixed(1)} s, then more)`)

    const media = playlists.filter((p) => p.includes('#EXTINF'))
    t.ok(media.length >= 1, `${media.length} media playlist(s) from the mirror`)
    t.ok(media.every((p) => /^#EXTM3U\n#EXT-X-DEFINE:NAME="cfqb",VALUE="https?:\/\/[^"]+"\n#EXT-X-DEFINE:NAME="cfq",VALUE="[^"]*Policy=[^"]+"\n/.test(p) &&
      /\n\{\$cfqb\}[^\n]*\{\$cfq\}\n/.test(p) && !/Policy=/.test(p.slice(p.indexOf('#EXT-X-VERSION')))),
    'each in variables mode: the URLs\' start and the query once, references on the segments')
    const segments = edgeRequests.filter((r) => r.url.includes('.ts?'))
    t.ok(segments.length >= 1, `${segments.length} segments from the edge`)
    t.ok(segments.every((r) => r.status === 200 && /\.ts\?Policy=[^&{}]+&Signature=[^&{}]+&Key-Pair-Id=K1$/.test(r.url)), 'each with the substituted signed query, answered 200')
    t.ok(edgeRequests.every((r) => r.cookie === undefined), 'the edge never received a cookie')
    t.same((await context.cookies()).filter((c) => c.name.startsWith('CloudFront-')), [], 'no CloudFront cookie in the browser')
    t.same(pageErrors, [], 'no script errors')
  })
}
