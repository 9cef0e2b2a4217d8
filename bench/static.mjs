// Static signed manifests against the playlist mirror, from the app's side: requests the app answers and
// the CPU it spends per viewer start and per viewer-minute of a live stream, and the bytes CloudFront
// serves (a templated manifest against its source, compressed). In-process (fastify.inject), one user
// whose grant is cached, as for every request after a viewer's first.
//   npm run bench:static   (BENCH_ITERATIONS, default 2000; BENCH_TARGET_DURATION, default 6)
import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import Fastify from 'fastify'
import fastifyCloudfrontCookies from 'fastify-cloudfront-cookies'

const require = createRequire(import.meta.url)
const { signedManifestUrl, templateHls, templateMpd } = require('../dist/cjs/core/manifests/index.js')

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000)
const TARGET = Number(process.env.BENCH_TARGET_DURATION ?? 6)
const DISTRIBUTION = 'https://media.example.com'
const KEY_ID = 'K2JCJMDEHXQW5F'
const RENDITIONS = 2 // one video and one audio media playlist, as in the player tests

const MASTER = '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="audio/index.m3u8"\n' +
  '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.42c00a,mp4a.40.2",AUDIO="aud"\nvideo/index.m3u8\n'
/** A live window of 6 segments, or a VOD playlist of `n`. */
function media (n, live) {
  let text = `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:${TARGET}\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-MAP:URI="init.mp4"\n`
  for (let i = 0; i < n; i++) text += `#EXTINF:${TARGET}.000000,\nseg-${String(100 + i).padStart(5, '0')}.m4s\n`
  return live ? text : text + '#EXT-X-ENDLIST\n'
}
const MPD = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT1H0M0.0S" minBufferTime="PT2.0S">
  <Period id="0" start="PT0.0S">
    <AdaptationSet id="0" contentType="video" segmentAlignment="true">
      <Representation id="0" mimeType="video/mp4" codecs="avc1.42c00a" bandwidth="800000" width="1280" height="720">
        <SegmentTemplate timescale="1000" duration="6000" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" segmentAlignment="true">
      <Representation id="1" mimeType="audio/mp4" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="48000">
        <SegmentTemplate timescale="1000" duration="6000" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
`

const root = mkdtempSync(join(tmpdir(), 'cf-bench-static-'))
const course = join(root, 'courses', '42')
mkdirSync(join(course, 'video'), { recursive: true })
mkdirSync(join(course, 'audio'), { recursive: true })
writeFileSync(join(course, 'master.m3u8'), MASTER)
writeFileSync(join(course, 'video', 'index.m3u8'), media(6, true))
writeFileSync(join(course, 'audio', 'index.m3u8'), media(6, true))

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const app = Fastify({ logger: false })
await app.register(fastifyCloudfrontCookies, {
  keyPairId: KEY_ID,
  privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  distribution: DISTRIBUTION,
  rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
  getUser: (request) => request.headers['x-user'],
  authorize: 'any-signed-in-user',
  playlists: { prefix: '/hls', origin: { root } }
})
const templates = { keyPairId: KEY_ID, hashAlgorithm: 'SHA1' }
// The app's whole part with static manifests: a grant and one URL.
app.get('/watch/:courseId', async (request, reply) => {
  const grant = await reply.cloudfront.grant(`/courses/${request.params.courseId}/`)
  return { url: signedManifestUrl(grant, `/courses/${request.params.courseId}/master.m3u8`, { distribution: DISTRIBUTION, templates }) }
})
await app.ready()

const headers = { 'x-user': 'alice' }
/** CPU microseconds per call of `fn`, after a warm-up. */
async function cpuPer (fn) {
  for (let i = 0; i < Math.min(200, ITERATIONS); i++) await fn()
  const start = process.cpuUsage()
  for (let i = 0; i < ITERATIONS; i++) await fn()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / ITERATIONS
}
async function get (url) {
  const res = await app.inject({ method: 'GET', url, headers })
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`)
}

const signaturesBefore = app.cloudfront.stats().signatures
const staticStart = await cpuPer(() => get('/watch/42'))
const mirrorStart = await cpuPer(async () => {
  await get('/hls/courses/42/master.m3u8')
  await get('/hls/courses/42/video/index.m3u8')
  await get('/hls/courses/42/audio/index.m3u8')
})
const mirrorPoll = await cpuPer(() => get('/hls/courses/42/video/index.m3u8'))
const signatures = app.cloudfront.stats().signatures - signaturesBefore
await app.close()
rmSync(root, { recursive: true, force: true })

const polls = (60 / TARGET) * RENDITIONS
const fmt = (n) => n.toFixed(0).padStart(6)
console.log(`App side, one user, grant cached (${signatures} signature${signatures === 1 ? '' : 's'} in ${ITERATIONS * 5 + 1000} requests), ${ITERATIONS} iterations each:`)
console.log('                                   app requests   app CPU µs')
console.log(`viewer start, static manifests     ${String(1).padStart(12)}   ${fmt(staticStart)}`)
console.log(`viewer start, mirror               ${String(1 + RENDITIONS).padStart(12)}   ${fmt(mirrorStart)}`)
console.log(`live viewer-minute, static         ${String(0).padStart(12)}   ${fmt(0)}   (the player polls CloudFront)`)
console.log(`live viewer-minute, mirror         ${String(polls).padStart(12)}   ${fmt(polls * mirrorPoll)}   (${RENDITIONS} playlists every ${TARGET} s)`)
console.log(`10,000 live viewers: mirror ${(10000 * polls / 60).toFixed(0)} playlist requests/s on the app, static 0`)

console.log('\nCloudFront side, bytes of one manifest (templated against source):')
const rows = [
  ['master playlist', MASTER, (t) => templateHls(t, 'master.m3u8', { keyPairId: KEY_ID }).text],
  ['VOD media playlist, 600 segments', media(600, false), (t) => templateHls(t, 'video/index.m3u8', { keyPairId: KEY_ID }).text],
  ['live media playlist, 6 segments', media(6, true), (t) => templateHls(t, 'video/index.m3u8', { keyPairId: KEY_ID }).text],
  ['MPD, SegmentTemplate', MPD, (t) => templateMpd(t, 'manifest.mpd', { keyPairId: KEY_ID }).text]
]
console.log('                                    raw            gzip           br')
for (const [name, source, template] of rows) {
  const out = template(source)
  const cell = (f) => `${f(Buffer.from(source))}→${f(Buffer.from(out))}`.padEnd(15)
  console.log(`${name.padEnd(34)}  ${cell((b) => b.length)}${cell((b) => gzipSync(b).length)}${cell((b) => brotliCompressSync(b).length)}`)
}
