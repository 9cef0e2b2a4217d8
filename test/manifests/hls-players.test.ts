// hls.js and Shaka Player play static templated HLS (EXT-X-DEFINE:QUERYPARAM) from one signed manifest
// URL, with no cookies and nothing but the edge in the media path: a multivariant fMP4 stream with an
// EXT-X-MEDIA audio rendition, and AES-128 TS. video.js, which does not implement QUERYPARAM, gets 403.
import t from 'tap'
import { rsaKeys, tempDir } from '../edge/helpers.js'
import { grantFor, KEY_ID, makeStaticCourse, manifestUrl, openBrowser, play, playedOrFailed, startEdge, type EdgeRequest } from './helpers.js'

const SIGNED = new RegExp(`[?&]Policy=[A-Za-z0-9_~-]+&Signature=[A-Za-z0-9_~-]+&Key-Pair-Id=${KEY_ID}$`)

t.test('static HLS in real players, cookie-less', async (t) => {
  const keys = rsaKeys()
  const root = tempDir(t, 'cf-static-hls-')
  const course = await makeStaticCourse(root, '42')
  const edge = await startEdge(root, { [KEY_ID]: keys.publicKey }, t)
  const grant = await grantFor(keys.privateKey, edge.url, '/courses/42/')
  const context = await openBrowser(t)

  /** Requests that were not signed (substituted), carried a cookie, or were not answered 200. */
  const unsigned = (requests: EdgeRequest[]): EdgeRequest[] => requests.filter((r) => r.status !== 200 || !SIGNED.test(r.url) || r.cookie !== undefined)

  for (const player of ['hls.js', 'shaka'] as const) {
    t.test(`${player} plays a multivariant fMP4 stream (EXT-X-MAP) with an EXT-X-MEDIA audio rendition`, async (t) => {
      const p = await play(context, player, manifestUrl(root, grant, edge.url, course.alt), edge.url)
      t.teardown(() => p.page.close())
      t.equal(await playedOrFailed(p, 3), undefined, 'no fatal error')
      t.ok(await p.page.evaluate('document.querySelector("video").currentTime') as number >= 3, '3 s played')
      t.ok(p.requests.length > 0, `${p.requests.length} requests to the edge`)
      t.same(unsigned(p.requests), [], 'every request carries the signed query (substituted), no cookie, and is answered 200')
      const paths = p.requests.map((r) => new URL(r.url).pathname)
      for (const want of [/\/alt\/master\.m3u8$/, /\/alt\/audio\/index\.m3u8$/, /\/alt\/audio\/init_\d\.mp4$/, /\/alt\/0\/index\.m3u8$/, /\/alt\/0\/init_\d\.mp4$/]) {
        t.ok(paths.some((path) => want.test(path)), `requested ${String(want)}`)
      }
      t.ok(paths.some((u) => /\/alt\/audio\/seg-\d+\.m4s$/.test(u)) && paths.some((u) => /\/alt\/0\/seg-\d+\.m4s$/.test(u)), 'audio and video segments')
      t.same(p.errors, [])
    })

    t.test(`${player} plays AES-128 TS (EXT-X-KEY)`, async (t) => {
      const p = await play(context, player, manifestUrl(root, grant, edge.url, course.aes), edge.url)
      t.teardown(() => p.page.close())
      t.equal(await playedOrFailed(p, 3), undefined, 'no fatal error')
      t.ok(await p.page.evaluate('document.querySelector("video").currentTime') as number >= 3, '3 s played')
      t.ok(p.requests.length > 0, `${p.requests.length} requests to the edge`)
      t.same(unsigned(p.requests), [], 'every request carries the signed query (substituted), no cookie, and is answered 200')
      t.ok(p.requests.some((r) => new URL(r.url).pathname === '/courses/42/aes/key.bin'), 'the key fetched with the signed query')
      t.same(p.errors, [])
    })
  }

  t.test('video.js (VHS) does not substitute QUERYPARAM: the edge answers 403, nothing plays', async (t) => {
    const before = edge.denials.length
    const p = await play(context, 'video.js', manifestUrl(root, grant, edge.url, course.alt), edge.url)
    t.teardown(() => p.page.close())
    await p.page.waitForFunction(() => true)
    await waitFor(() => edge.denials.length > before)
    const denied = edge.denials.slice(before)
    t.ok(denied.some((d) => /%7B%24Policy%7D|\{\$Policy\}/.test(d.url)), `a request with {$Policy} literally was refused (${denied[0]?.code ?? ''})`)
    t.ok(p.requests.some((r) => r.status === 403), 'the page saw a 403')
    t.notOk(p.requests.some((r) => r.status === 200 && /\.(m4s|mp4)\?/.test(r.url)), 'no media segment served')
    t.ok(await p.page.evaluate('document.querySelector("video").currentTime') as number < 0.5, 'nothing played')
  })

  t.same((await context.cookies()).filter((c) => c.name.startsWith('CloudFront-')), [], 'no CloudFront cookie in the browser')
})

async function waitFor (done: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  if (!done()) throw new Error('not seen within 60 s')
}
