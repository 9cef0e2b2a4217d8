// Cookie-less DASH end to end, with players no one here wrote: Debian's ffmpeg makes one stream of every
// shape its DASH muxers write, the local edge serves them as CloudFront would, the app mirrors their MPDs,
// and dash.js and Shaka Player in Debian's Chromium play 3 s of each with no cookie at all, on every host;
// ffmpeg's own DASH demuxer decodes the SegmentTemplate shapes. First, why the mirror is needed: the MPD
// fetched with a signed URL alone opens, and its segments do not.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SaxesParser } from 'saxes'
import { createEdgeServer } from '../../src/edge/index.js'
import { errorCode, listen, rawGet, rsaKeys } from '../edge/helpers.js'
import { BROWSER, launch } from '../client/serve.js'
import { FFMPEG } from '../helpers/media.js'
import { dashCourse, DASH_SECONDS, DASH_SHAPES, type DashShape } from '../helpers/dash-media.js'
import { DASH_PLAYERS, PLAYER_PAGE, PLAYER_SCRIPTS, playFor } from '../helpers/dash-players.js'
import { fastifyHost, playlistHosts, type AppOptions, type RunningApp } from './apps.js'

const run = promisify(execFile)
const keys = rsaKeys()
const course = dashCourse('42')
const SHAPES = Object.keys(DASH_SHAPES) as DashShape[]
// The page's origin: loopback, as the edge is (Chromium keeps public pages off loopback), and served by the
// browser's request routing, which passes /hls/ on to the app under test as the signed-in alice.
const PAGE = 'http://127.0.0.1:9'
const SIGNED = /\?Policy=[\w~-]+&Signature=[\w~-]+&Key-Pair-Id=K1$/

interface Hit { url: string, status: number }

/** ffmpeg's per-frame checksums of an input's first video and audio streams, and how it ended. */
async function frames (input: string, headers?: string, maps = ['0:v:0', '0:a:0?']): Promise<{ frames: string[], failed: string | null }> {
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', ...(headers === undefined ? [] : ['-headers', headers]), '-i', input,
    ...maps.flatMap((m) => ['-map', m]), '-f', 'framemd5', '-']
  try {
    // Killed, not asked to stop: ffmpeg 5.1 can spin on a DASH input and not heed SIGTERM.
    const { stdout } = await run(FFMPEG, args, { maxBuffer: 16 * 1024 * 1024, timeout: 60_000, killSignal: 'SIGKILL' })
    return { frames: lines(stdout), failed: null }
  } catch (err) {
    const e = err as { stdout?: string, stderr?: string, code?: number, signal?: string }
    return { frames: lines(e.stdout ?? ''), failed: `exit ${e.code ?? e.signal}: ${(e.stderr ?? '').split('\n')[0]}` }
  }
}

// The header lines name the input; the frames do not.
function lines (framemd5: string): string[] {
  return framemd5.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
}

/**
 * The frames of a SegmentTemplate shape decoded from its files themselves (each Representation's
 * initialization segment and media segments, concatenated): the whole stream, whatever a demuxer makes of
 * the MPD. Stream 0 is the video, stream 1 the audio; framemd5 numbers each input's stream 0.
 */
async function wholeFrames (shape: DashShape, skipFirstSegment = false): Promise<string[]> {
  const dir = join(course.root, 'courses', '42', 'dash', shape)
  const files = readdirSync(dir).sort()
  const out: string[] = []
  for (const [index, id] of ['0', '1'].entries()) {
    const segments = files.filter((f) => f.startsWith(`chunk-${shape === 'time' ? '' : 'stream'}${id}-`))
      .sort((a, b) => Number(/(\d+)\.m4s$/.exec(a)?.[1]) - Number(/(\d+)\.m4s$/.exec(b)?.[1]))
    const concat = ['init-stream' + id + '.m4s', ...segments.slice(skipFirstSegment ? 1 : 0)]
    const { frames: decoded } = await frames(`concat:${concat.map((f) => join(dir, f)).join('|')}`, undefined, ['0:0'])
    out.push(...decoded.map((l) => l.replace(/^0,/, `${index},`)))
  }
  return out
}

/** The parser's complaint about an XML text, or null for a well-formed document (no entity is defined). */
function xmlError (text: string): string | null {
  const parser = new SaxesParser({ xmlns: true })
  let error: string | null = null
  parser.on('error', (e) => { error ??= e.message })
  parser.write(text).close()
  return error
}

const options = (): AppOptions => ({
  keyPairId: 'K1',
  privateKey: keys.privateKey,
  distribution: '',
  rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
  getUser: (req) => (typeof req.headers['x-user'] === 'string' ? req.headers['x-user'] : undefined),
  authorize: (req, params) => (req.headers['x-user'] === 'alice' && params.courseId === '42') || (req.headers['x-user'] === 'bob' && params.courseId === '43'),
  playlists: { prefix: '/hls', origin: { root: course.root } }
})

if (BROWSER.path === undefined) {
  t.fail(BROWSER.message)
} else {
  t.test('cookie-less DASH through the mirror and the edge', async (t) => {
    const edge = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { root: course.root }, cors: { origins: [PAGE] } })
    const edgePort = await listen(edge)
    const edgeUrl = `http://127.0.0.1:${edgePort}`
    t.teardown(() => edge.close())
    const appOptions = (): AppOptions => ({ ...options(), distribution: edgeUrl })

    const browser = await launch(['--autoplay-policy=no-user-gesture-required',
      // The page is routed, not loaded from loopback: Chromium would otherwise refuse it the loopback edge.
      '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests'])
    t.teardown(() => browser.close())
    const context = await browser.newContext()
    t.teardown(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(60_000)
    let mirror: RunningApp | undefined
    const served: string[] = []
    await page.route(PAGE + '/**', async (route) => {
      const url = new URL(route.request().url())
      if (url.pathname === '/') return await route.fulfill({ contentType: 'text/html', body: PLAYER_PAGE })
      const script = PLAYER_SCRIPTS[url.pathname]
      if (script !== undefined) return await route.fulfill({ contentType: 'text/javascript', body: script })
      if (mirror === undefined || !url.pathname.startsWith('/hls/')) return await route.fulfill({ status: 404 })
      // The signed-in user, as a session would say; the body is the app's, unchanged.
      const response = await route.fetch({ url: mirror.url + url.pathname + url.search, headers: { ...route.request().headers(), 'x-user': 'alice' } })
      served.push(await response.text())
      await route.fulfill({ response })
    })
    const hits: Hit[] = []
    page.on('response', (response) => {
      if (response.url().startsWith(edgeUrl + '/')) hits.push({ url: response.url(), status: response.status() })
    })
    await page.goto(PAGE + '/')

    await t.test('why: an MPD fetched with a signed URL opens, and none of its segments does', async (t) => {
      const app = await fastifyHost.start(appOptions())
      t.teardown(() => app.close())
      const { query } = JSON.parse((await app.get('/api/courses/42/stream', { 'x-user': 'alice' })).body.toString()) as { query: string }
      const signedMpd = `${edgeUrl}${course.mpds.number}?${query}`
      for (const player of DASH_PLAYERS) {
        const from = hits.length
        const played = await playFor(page, player, signedMpd)
        const seen = hits.slice(from)
        t.ok(played.errors.length > 0 && played.time < 1, `${player} reports an error and plays nothing (${played.errors[0]})`)
        t.equal(seen[0]?.url, signedMpd, 'the MPD was asked with its signed query')
        t.equal(seen[0]?.status, 200, 'and answered 200')
        const segments = seen.slice(1)
        t.ok(segments.length >= 1 && segments.every((h) => h.status === 403 && !h.url.includes('?')), `each segment asked without the query, refused 403 (${segments.map((h) => h.url.slice(edgeUrl.length)).join(', ')})`)
      }
      const init = await rawGet('127.0.0.1', edgePort, course.mpds.number.replace('manifest.mpd', 'init-stream0.m4s'))
      t.equal(errorCode(init.body), 'MissingKey', 'what the edge says to such a request')
      const ffmpeg = await frames(signedMpd)
      t.ok(ffmpeg.failed !== null && ffmpeg.frames.length === 0, `ffmpeg decodes nothing either (${ffmpeg.failed})`)
    })

    for (const host of playlistHosts) {
      await t.test(host.name, async (t) => {
        const app = await host.start(appOptions())
        t.teardown(() => app.close())
        mirror = app
        t.teardown(() => { mirror = undefined })
        const segmentUrls: string[] = []

        for (const player of DASH_PLAYERS) {
          for (const shape of SHAPES) {
            await t.test(`${player} plays ${DASH_SHAPES[shape]}, with no cookie`, async (t) => {
              const from = hits.length
              const fromServed = served.length
              const played = await playFor(page, player, `${PAGE}/hls${course.mpds[shape]}`)
              t.same(played.errors, [], 'no player error')
              t.ok(played.time >= 3, `3 s played (currentTime ${played.time.toFixed(1)})`)
              const seen = hits.slice(from)
              t.ok(seen.length >= 3, `${seen.length} requests to the edge`)
              t.same(seen.filter((h) => (h.status !== 200 && h.status !== 206) || !SIGNED.test(h.url)), [], 'each with the signed query, answered 200 or 206')
              segmentUrls.push(...seen.map((h) => h.url))
              const mpds = served.slice(fromServed)
              t.ok(mpds.length >= 1 && mpds.every((m) => xmlError(m) === null), 'the MPD served is well-formed XML (every & escaped)')
            })
          }
        }
        t.same(await context.cookies(), [], 'no cookie in the browser')

        await t.test('the edge refuses a segment URL with another user\'s query or a tampered signature', async (t) => {
          const signed = segmentUrls[0] as string
          const path = signed.slice(edgeUrl.length)
          t.equal((await rawGet('127.0.0.1', edgePort, path)).status, 200, 'the URL a player asked opens')
          const { query: bobs } = JSON.parse((await app.get('/api/courses/43/stream', { 'x-user': 'bob' })).body.toString()) as { query: string }
          const other = await rawGet('127.0.0.1', edgePort, `${path.slice(0, path.indexOf('?'))}?${bobs}`)
          t.equal(other.status, 403, 'bob\'s query (for his course) on alice\'s segment: 403')
          t.equal(errorCode(other.body), 'AccessDenied')
          const tampered = path.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`)
          const forged = await rawGet('127.0.0.1', edgePort, tampered)
          t.equal(forged.status, 403, 'one character of the signature changed: 403')
          t.equal(errorCode(forged.body), 'AccessDenied')
        })

        for (const shape of ['number', 'time'] as const) {
          await t.test(`ffmpeg decodes ${DASH_SHAPES[shape]} through the mirror and the edge`, async (t) => {
            const whole = await wholeFrames(shape)
            t.ok(whole.length >= DASH_SECONDS * 30, `${whole.length} frames of video and audio in the files`)
            const mirrored = await frames(`${app.url}/hls${course.mpds[shape]}`, 'x-user: alice\r\n')
            const direct = await frames(join(course.root, course.mpds[shape]))
            t.same(mirrored.frames, direct.frames, 'the same frames as ffmpeg reads from the MPD on disk')
            if (shape === 'number') {
              t.same(mirrored.frames.sort(), whole.sort(), 'every frame of the files: the whole stream')
            } else {
              // ffmpeg 5.1's demuxer takes startNumber="1" as an index into the SegmentTimeline: it skips the
              // first segment (t=0) of each Representation and asks for one past the end, from disk as well.
              t.same(mirrored.frames.sort(), (await wholeFrames(shape, true)).sort(), 'every frame but those of the first segment (ffmpeg 5.1 skips it, from disk too)')
            }
          })
        }

        // What ffmpeg 5.1 cannot play, whatever the mirror does; the players above play the same MPDs. If one
        // of these starts to pass, ffmpeg has changed: the player table in the README says what it plays.
        await t.test('ffmpeg cannot play the other shapes, even with every URL signed', async (t) => {
          const causes: Record<'list' | 'single' | 'webm', [RegExp, string]> = {
            // It skips a SegmentURL longer than about 128 characters: a signed one is some 650.
            list: [/Error when loading first fragment/, 'skips the long SegmentURLs, then has no first segment'],
            // It reads a BaseURL's text unescaped and hands it to libxml2 again: &amp; becomes a bare &.
            single: [/unterminated entity reference/, 'fails on the BaseURL holding the query'],
            webm: [/unterminated entity reference/, 'fails on the BaseURL holding the query']
          }
          for (const [shape, [cause, what]] of Object.entries(causes) as Array<[DashShape, [RegExp, string]]>) {
            const mirrored = await frames(`${app.url}/hls${course.mpds[shape]}`, 'x-user: alice\r\n')
            t.equal(mirrored.frames.length, 0, `${DASH_SHAPES[shape]}: no frame decoded`)
            t.match(mirrored.failed, cause, `ffmpeg ${what} (${mirrored.failed?.slice(0, 120)})`)
          }
        })
      })
    }
  })
}
