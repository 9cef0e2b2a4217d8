// The mirror serving DASH MPDs to a user whose grant is cached, against @fastify/static serving the
// unmodified file, paired in time as bench/playlists.mjs does (two processes sharing CPU 0, each under
// its own autocannon on CPU 1, fresh processes every round). Two MPDs: a SegmentList of 1,000
// SegmentURLs (the mirror's worst case: one query per segment) and an ffmpeg-style SegmentTemplate
// (two Representations, four signed URLs). Then the per-segment-signing approach (each SegmentURL
// signed on its own, per request) for scale, and the bytes on the wire.
//   npm run bench:mpd   (BENCH_DURATION=seconds per round, default 2; BENCH_PAIR_ROUNDS, default 7)
import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'
import { getSignedUrl } from '@aws-sdk/cloudfront-signer'
import fastifyCloudfrontCookies from 'fastify-cloudfront-cookies'
import { canPin, fetchOnce, listenAndReport, median, pairHarness, pin, range } from './pairs.mjs'

const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS ?? 7)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2)
const CONNECTIONS = 10
const SEGMENTS = 1000
const DISTRIBUTION = 'https://media.example.com'
const LIST = '/courses/42/dash/list.mpd'
const TEMPLATE = '/courses/42/dash/template.mpd'
const ACCEPT = 'gzip, deflate, br'

/** The SegmentList MPD, each URL written by `url` (the file name as it is, for the source). */
function listText (url = (name) => name) {
  let text = '<?xml version="1.0" encoding="utf-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:full:2011" type="static" mediaPresentationDuration="PT2000.0S" minBufferTime="PT4.0S">\n' +
    '  <Period id="0" start="PT0.0S">\n    <AdaptationSet id="0" contentType="video" segmentAlignment="true">\n' +
    '      <Representation id="0" mimeType="video/mp4" codecs="avc1.64001f" bandwidth="2000000" width="1280" height="720">\n' +
    `        <SegmentList timescale="1000000" duration="2000000">\n          <Initialization sourceURL="${url('init-stream0.m4s')}"/>\n`
  for (let i = 1; i <= SEGMENTS; i++) text += `          <SegmentURL media="${url(`chunk-stream0-${String(i).padStart(5, '0')}.m4s`)}"/>\n`
  return text + '        </SegmentList>\n      </Representation>\n    </AdaptationSet>\n  </Period>\n</MPD>\n'
}

function templateText () {
  return '<?xml version="1.0" encoding="utf-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT2000.0S" minBufferTime="PT4.0S">\n' +
    '  <Period id="0" start="PT0.0S">\n' +
    '    <AdaptationSet id="0" contentType="video" segmentAlignment="true">\n' +
    '      <Representation id="0" mimeType="video/mp4" codecs="avc1.64001f" bandwidth="2000000" width="1280" height="720">\n' +
    '        <SegmentTemplate timescale="1000000" duration="2000000" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="1"/>\n' +
    '      </Representation>\n    </AdaptationSet>\n' +
    '    <AdaptationSet id="1" contentType="audio" segmentAlignment="true">\n' +
    '      <Representation id="1" mimeType="audio/mp4" codecs="mp4a.40.2" bandwidth="128000" audioSamplingRate="48000">\n' +
    '        <SegmentTemplate timescale="1000000" duration="2000000" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="1"/>\n' +
    '      </Representation>\n    </AdaptationSet>\n  </Period>\n</MPD>\n'
}

const escapeXml = (s) => s.replaceAll('&', '&amp;')

async function serve (scenario) {
  const root = process.env.BENCH_ROOT
  const pem = process.env.BENCH_PEM
  const app = Fastify({ logger: false })
  if (scenario.startsWith('static')) {
    await app.register(fastifyStatic, { root, preCompressed: true })
  } else if (scenario === 'per-segment') {
    // Each SegmentURL and the Initialization signed on their own (canned policy), per request.
    const base = DISTRIBUTION + LIST.slice(0, LIST.lastIndexOf('/') + 1)
    app.get(LIST, (request, reply) => {
      const dateLessThan = new Date(Date.now() + 3600_000).toISOString()
      const out = listText((name) => escapeXml(getSignedUrl({ url: base + name, keyPairId: 'KBENCH', privateKey: pem, dateLessThan })))
      reply.header('content-type', 'application/dash+xml').header('cache-control', 'private, no-store').send(out)
    })
  } else {
    await app.register(fastifyCloudfrontCookies, {
      keyPairId: 'KBENCH',
      privateKey: pem,
      distribution: DISTRIBUTION,
      rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
      getUser: (request) => request.headers['x-user'],
      authorize: 'any-signed-in-user',
      playlists: { prefix: '/hls', origin: { root } }
    })
  }
  await listenAndReport(app)
}

function harness (env) {
  return pairHarness({
    script: fileURLToPath(import.meta.url),
    env,
    connections: CONNECTIONS,
    warmup: WARMUP,
    duration: DURATION,
    target: (name) => {
      const file = name.includes('template') ? TEMPLATE : LIST
      return {
        path: name.startsWith('mirror') ? '/hls' + file : file,
        headers: { 'x-user': 'alice', ...(name.endsWith('-compressed') ? { 'accept-encoding': ACCEPT } : {}) }
      }
    }
  })
}

async function perSegmentRate ({ start, stop }, seconds) {
  const s = await start('per-segment', '0,1')
  const first = await fetchOnce(s.url, {})
  if (first.status !== 200) throw new Error(`per-segment: ${first.status}`)
  const end = Date.now() + seconds * 1000
  let n = 0
  await Promise.all([0, 1].map(async () => {
    while (Date.now() < end) {
      const r = await fetchOnce(s.url, {})
      if (r.status !== 200) throw new Error(`per-segment: ${r.status}`)
      n++
    }
  }))
  const rate = n / ((Date.now() - end + seconds * 1000) / 1000)
  await stop(s)
  return rate
}

async function main () {
  const root = mkdtempSync(join(tmpdir(), 'cf-bench-mpd-'))
  try {
    const texts = { list: listText(), template: templateText() }
    for (const [name, file] of [['list', LIST], ['template', TEMPLATE]]) {
      mkdirSync(join(root, file, '..'), { recursive: true })
      writeFileSync(join(root, file), texts[name])
      writeFileSync(join(root, file + '.br'), brotliCompressSync(texts[name]))
      writeFileSync(join(root, file + '.gz'), gzipSync(texts[name]))
    }
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const h = harness({ BENCH_ROOT: root, BENCH_PEM: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() })
    const { start, stop, pair } = h

    const bytes = {}
    for (const name of ['static', 'mirror', 'static-template', 'mirror-template']) {
      const s = await start(name, '0,1')
      for (const [label, headers] of [['identity', {}], ['compressed', { 'accept-encoding': ACCEPT }]]) {
        const r = await fetchOnce(s.url, { 'x-user': 'alice', ...headers })
        if (r.status !== 200) throw new Error(`${name} ${label}: ${r.status} ${r.body.toString().slice(0, 200)}`)
        bytes[`${name}-${label}`] = { length: r.body.length, encoding: r.headers['content-encoding'] ?? 'identity', body: r.body }
      }
      await stop(s)
    }

    pin(process.pid, '1')
    const pairs = [['static', 'mirror'], ['static-compressed', 'mirror-compressed'], ['static-template', 'mirror-template'], ['static-template-compressed', 'mirror-template-compressed']]
    const results = new Map(pairs.map(([a, b]) => [b, []]))
    for (let round = 0; round < PAIR_ROUNDS; round++) {
      for (const [a, b] of pairs) {
        const [base, row] = await pair(a, b)
        results.get(b).push({ ratio: row.rps / base.rps, base: base.rps, row: row.rps, cpu: base.cpuPerRequest / row.cpuPerRequest })
      }
    }
    pin(process.pid, '0,1')
    const perSegment = await perSegmentRate(h, Math.max(4, DURATION * 2))

    console.log('\nDASH mirror: a SegmentList MPD of %d SegmentURLs (%d bytes) and a SegmentTemplate MPD (%d bytes), RSA-2048, %d connections per server', SEGMENTS, texts.list.length, texts.template.length, CONNECTIONS)
    console.log('Pairs served at the same time on one core, %d rounds of %d s, fresh processes each round; medians and ranges\n', PAIR_ROUNDS, DURATION)
    console.log('| pair | static req/s | mirror req/s | mirror / static | rounds | CPU-per-request ratio |')
    console.log('|---|---:|---:|---:|---|---:|')
    for (const [a, b] of pairs) {
      const list = results.get(b)
      console.log(`| ${b} vs ${a} | ${Math.round(median(list.map((x) => x.base)))} | ${Math.round(median(list.map((x) => x.row)))} | ${median(list.map((x) => x.ratio)).toFixed(2)}x | ${range(list.map((x) => x.ratio))} | ${median(list.map((x) => x.cpu)).toFixed(2)} |`)
    }
    const mirrorRps = median(results.get('mirror').map((x) => x.row))
    console.log(`\nPer-segment signing of the SegmentList MPD (@aws-sdk/cloudfront-signer, ${SEGMENTS + 1} signatures a request): ${perSegment.toFixed(2)} req/s`)
    console.log(`mirror (cached grant) / per-segment signing: ${(mirrorRps / perSegment).toFixed(0)}x`)
    console.log('\nBytes on the wire (body)\n')
    console.log('| response | static | mirror | mirror / static |\n|---|---:|---:|---:|')
    for (const mpd of ['', '-template']) {
      for (const label of ['identity', 'compressed']) {
        const s = bytes[`static${mpd}-${label}`]
        const m = bytes[`mirror${mpd}-${label}`]
        console.log(`| ${mpd === '' ? 'list' : 'template'} ${label} (static ${s.encoding}, mirror ${m.encoding}) | ${s.length} | ${m.length} | ${(m.length / s.length).toFixed(2)}x |`)
      }
      const br = (body) => brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } }).length
      const m = br(bytes[`mirror${mpd}-identity`].body)
      const u = br(Buffer.from(texts[mpd === '' ? 'list' : 'template']))
      console.log(`| ${mpd === '' ? 'list' : 'template'} br q5 (both) | ${u} | ${m} | ${(m / u).toFixed(2)}x |`)
    }
    const targets = [
      ['cached mirror >= 0.5x static (list, identity)', median(results.get('mirror').map((x) => x.ratio)), 0.5],
      ['cached mirror >= 0.5x static (list, compressed)', median(results.get('mirror-compressed').map((x) => x.ratio)), 0.5],
      ['cached mirror >= 0.5x static (template, identity)', median(results.get('mirror-template').map((x) => x.ratio)), 0.5],
      ['cached mirror >= 100x per-segment signing', mirrorRps / perSegment, 100]
    ]
    console.log('\n| target | measured | met |\n|---|---:|---|')
    for (const [name, value, bound] of targets) console.log(`| ${name} | ${value.toFixed(2)} | ${value >= bound ? 'yes' : 'NO'} |`)
    if (!canPin) console.log('(taskset not available: pairs ran unpinned)')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3])
else await main()
