// Cookie-less playback end to end, with real media: Debian's ffmpeg makes the streams, the local
// edge serves them as CloudFront would, the app mirrors their playlists, and ffmpeg, with no
// cookies at all, decodes every stream through the mirror and the edge, frame for frame the same
// as decoding the files directly. Then what the edge refuses, and what the mirror refuses.
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createEdgeServer } from '../../src/edge/index.js'
import { errorCode, listen, rawGet, rsaKeys, tempDir } from '../edge/helpers.js'
import { FFMPEG, makeCourse, STREAM_SECONDS } from '../helpers/media.js'
import { playlistHosts, type AppOptions } from './apps.js'

const run = promisify(execFile)
const keys = rsaKeys()
const root = tempDir(t, 'cf-playback-')
const streams = makeCourse(root, '42')
makeCourse(root, '43')

/** ffmpeg's per-frame checksums of the first video and audio streams of an input: equal output, equal pictures and sound. */
async function frames (input: string, headers?: string): Promise<string> {
  // allowed_extensions: a local AES playlist's key file (key.bin) is otherwise refused by ffmpeg.
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-allowed_extensions', 'ALL', ...(headers ? ['-headers', headers] : []), '-i', input,
    '-map', '0:v:0', '-map', '0:a:0?', '-f', 'framemd5', '-']
  const { stdout } = await run(FFMPEG, args, { maxBuffer: 16 * 1024 * 1024 })
  // The header lines name the input; the frames do not.
  return stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).join('\n')
}

let edgePort = 0
let edgeUrl = ''
t.before(async () => {
  const edge = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { root } })
  edgePort = await listen(edge)
  edgeUrl = `http://127.0.0.1:${edgePort}`
  t.teardown(() => edge.close())
})

const options = (): AppOptions => ({
  keyPairId: 'K1',
  privateKey: keys.privateKey,
  distribution: edgeUrl,
  rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
  getUser: (req) => (typeof req.headers['x-user'] === 'string' ? req.headers['x-user'] : undefined),
  authorize: (req, params) => req.headers['x-user'] === 'alice' && params.courseId === '42',
  playlists: { prefix: '/hls', origin: { root } }
})

for (const host of playlistHosts) {
  t.test(host.name, async (t) => {
    const app = await host.start(options())
    t.teardown(() => app.close())

    for (const [name, path] of Object.entries(streams)) {
      t.test(`ffmpeg decodes ${name} through the mirror and the edge, with no cookies`, async (t) => {
        const direct = await frames(join(root, path))
        const mirrored = await frames(app.url + '/hls' + path, 'x-user: alice\r\n')
        t.ok(direct.split('\n').length >= STREAM_SECONDS * 10, `${direct.split('\n').length} frames`)
        t.equal(mirrored, direct, 'every frame, the same as the files')
      })
    }

    t.test('repeat fetches make no new signature; one signature serves every playlist and segment of the prefix', async (t) => {
      const before = app.stats().signatures
      for (const path of Object.values(streams)) {
        const res = await app.get('/hls' + path, { 'x-user': 'alice' })
        t.equal(res.status, 200)
      }
      t.equal(app.stats().signatures, before, 'nothing signed again')
      t.equal(before, 1, 'one signature for the whole course (all four streams)')
      const a = await app.get('/hls/courses/42/ts/high/index.m3u8', { 'x-user': 'alice' })
      const b = await app.get('/hls/courses/42/fmp4/index.m3u8', { 'x-user': 'alice' })
      const queryOf = (body: Buffer): Set<string> => new Set(body.toString().split(/[\n"]/).filter((l) => l.startsWith('http')).map((l) => l.slice(l.indexOf('?'))))
      t.same([...queryOf(a.body), ...queryOf(b.body)].filter((q, i, all) => all.indexOf(q) === i).length, 1, 'the same query on every URI')
    })

    t.test('the edge refuses a segment without its query, with a tampered signature, or under another course', async (t) => {
      const res = await app.get('/hls/courses/42/ts/high/index.m3u8', { 'x-user': 'alice' })
      const segment = res.body.toString().split('\n').find((l) => l.startsWith('http')) as string
      const path = segment.slice(edgeUrl.length)
      t.equal((await rawGet('127.0.0.1', edgePort, path)).status, 200, 'the signed URL opens')
      const bare = await rawGet('127.0.0.1', edgePort, path.slice(0, path.indexOf('?')))
      t.equal(bare.status, 403)
      t.equal(errorCode(bare.body), 'MissingKey')
      const tampered = path.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`)
      t.equal((await rawGet('127.0.0.1', edgePort, tampered)).status, 403)
      t.equal(errorCode((await rawGet('127.0.0.1', edgePort, tampered)).body), 'AccessDenied')
      const other = path.replace('/courses/42/', '/courses/43/')
      const elsewhere = await rawGet('127.0.0.1', edgePort, other)
      t.equal(elsewhere.status, 403)
      t.equal(errorCode(elsewhere.body), 'AccessDenied')
    })

    t.test('no playlist for an anonymous or unauthorised user, a path no rule covers, a hostile parameter', async (t) => {
      const cases: Array<[string, Record<string, string>, number, string]> = [
        ['/hls/courses/42/ts/master.m3u8', {}, 401, 'FST_ERR_CF_PLAYLIST_NO_USER'],
        ['/hls/courses/42/ts/master.m3u8', { 'x-user': 'bob' }, 403, 'FST_ERR_CF_PLAYLIST_FORBIDDEN'],
        ['/hls/courses/43/ts/master.m3u8', { 'x-user': 'alice' }, 403, 'FST_ERR_CF_PLAYLIST_FORBIDDEN'],
        ['/hls/elsewhere/42/index.m3u8', { 'x-user': 'alice' }, 404, 'FST_ERR_CF_PLAYLIST_NOT_FOUND'],
        ['/hls/courses/42/none.m3u8', { 'x-user': 'alice' }, 404, 'FST_ERR_CF_PLAYLIST_NOT_FOUND'],
        ['/hls/courses/4%2A/ts/master.m3u8', { 'x-user': 'alice' }, 400, 'FST_ERR_CF_INVALID_PARAM'],
        ['/hls/courses/../courses/42/ts/master.m3u8', { 'x-user': 'alice' }, 400, 'FST_ERR_CF_INVALID_PARAM'],
        ['/hls/courses/42/ts/seg-000.ts', { 'x-user': 'alice' }, 404, 'FST_ERR_CF_PLAYLIST_NOT_FOUND']
      ]
      for (const [path, headers, status, code] of cases) {
        const res = await rawGet('127.0.0.1', Number(new URL(app.url).port), path, headers)
        t.equal(res.status, status, `${path} ${headers['x-user'] ?? 'anonymous'}: ${status}`)
        t.equal(JSON.parse(res.body.toString()).code, code)
        t.notMatch(res.body.toString(), /EXTM3U|EXTINF|Signature=/, 'nothing of the playlist')
        t.equal(res.headers['set-cookie'], undefined)
        t.equal(res.headers['cloudfront-grant-expires'], undefined)
      }
    })
  })
}
