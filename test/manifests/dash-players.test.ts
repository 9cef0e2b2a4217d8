// dash.js and Shaka Player play a static templated MPD (Annex I URL parameters) from one signed MPD URL,
// with no cookies and nothing but the edge in the media path. ffmpeg, whose DASH demuxer does not add
// the MPD's query to segments, gets 403.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { rsaKeys, tempDir } from '../edge/helpers.js'
import { FFMPEG } from '../helpers/media.js'
import { grantFor, KEY_ID, makeStaticCourse, manifestUrl, openBrowser, play, playedOrFailed, startEdge, type EdgeRequest } from './helpers.js'

const run = promisify(execFile)
// Shaka appends the MPD's query through its URI parser, which writes "~" in the Signature as "%7E" (the edge reads both).
const SIGNED = new RegExp(`[?&]Policy=[A-Za-z0-9_~-]+&Signature=(?:[A-Za-z0-9_~-]|%7E)+&Key-Pair-Id=${KEY_ID}$`)

t.test('static DASH in real players, cookie-less', async (t) => {
  const keys = rsaKeys()
  const root = tempDir(t, 'cf-static-dash-')
  const course = await makeStaticCourse(root, '42')
  const edge = await startEdge(root, { [KEY_ID]: keys.publicKey }, t)
  const grant = await grantFor(keys.privateKey, edge.url, '/courses/42/')
  const src = manifestUrl(root, grant, edge.url, course.dash)
  const unsigned = (requests: EdgeRequest[]): EdgeRequest[] => requests.filter((r) => r.status !== 200 || !SIGNED.test(r.url) || r.cookie !== undefined)

  t.test('ffmpeg does not add the MPD\'s query to segments: the edge refuses them', async (t) => {
    const before = edge.denials.length
    const result = await run(FFMPEG, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', src, '-t', '1', '-f', 'null', '-'], { timeout: 60_000 }).then(() => 0, (err: { code?: number }) => err.code ?? -1)
    t.not(result, 0, `ffmpeg exits ${String(result)}`)
    const denied = edge.denials.slice(before)
    t.ok(denied.some((d) => /init-stream\d\.m4s$/.test(d.url) && d.code === 'MissingKey'), 'an init segment without the query: 403 MissingKey')
  })

  const context = await openBrowser(t)
  for (const player of ['dash.js', 'shaka'] as const) {
    t.test(`${player} plays the MPD, every segment request with the MPD's signed query`, async (t) => {
      const p = await play(context, player, src, edge.url)
      t.teardown(() => p.page.close())
      t.equal(await playedOrFailed(p, 3), undefined, 'no fatal error')
      t.ok(await p.page.evaluate('document.querySelector("video").currentTime') as number >= 3, '3 s played')
      t.ok(p.requests.length > 0, `${p.requests.length} requests to the edge`)
      t.same(unsigned(p.requests), [], 'every request carries the signed query, no cookie, and is answered 200')
      const paths = p.requests.map((r) => new URL(r.url).pathname)
      t.ok(paths.some((u) => /\/dash\/init-stream0\.m4s$/.test(u)) && paths.some((u) => /\/dash\/init-stream1\.m4s$/.test(u)), 'video and audio init segments')
      t.ok(paths.filter((u) => /\/dash\/chunk-stream\d-\d+\.m4s$/.test(u)).length >= 4, 'media segments')
      t.same(p.errors, [])
    })
  }
  t.same((await context.cookies()).filter((c) => c.name.startsWith('CloudFront-')), [], 'no CloudFront cookie in the browser')
})
