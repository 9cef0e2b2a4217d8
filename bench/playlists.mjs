// The playlist mirror serving a 1,000-segment media playlist to a user whose grant is cached,
// against @fastify/static serving the unmodified file, paired in time as bench/plugin.mjs does:
// both servers run at the same moment in two processes sharing CPU 0, each under its own
// autocannon on CPU 1, fresh processes every round; the ratio of their req/s is the ratio of their
// costs. Then the same with compression (static: the file's pre-compressed copy), the bytes on the
// wire (also in variables mode: the query once, in an EXT-X-DEFINE), and the per-segment-signing approach (one signature per URI, as the Lambda@Edge samples
// do) for scale.
//   npm run bench:playlists   (BENCH_DURATION=seconds per round, default 2; BENCH_PAIR_ROUNDS, default 7)
// BENCH_BASE=<another checkout, built> measures only this build's mirror rows (mirror, mirror-compressed,
// mirror-vars, mirror-vars-compressed) against the same rows of that build, as pairs served at the same time
// (the other build's own bench/playlists.mjs serves its side): median ratio of req/s (this / base), range,
// every round, and the CPU-per-request ratio (base / this; below 1, this build spends more per request).
import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
const PLAYLIST = '/courses/42/720p/index.m3u8'
// What browsers send; hls.js and native players accept gzip at least.
const ACCEPT = 'gzip, deflate, br'

function playlistText () {
  let text = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n'
  for (let i = 0; i < SEGMENTS; i++) text += `#EXTINF:2.000000,\nsegment-${String(i).padStart(4, '0')}.ts\n`
  return text + '#EXT-X-ENDLIST\n'
}

async function serve (scenario) {
  const root = process.env.BENCH_ROOT
  const pem = process.env.BENCH_PEM
  const app = Fastify({ logger: false })
  if (scenario.startsWith('static')) {
    // The unmodified file; with compression, the .br/.gz copies made once by the parent (the best
    // a static server can do: no compression per request).
    await app.register(fastifyStatic, { root, preCompressed: true })
  } else if (scenario === 'per-segment') {
    // The per-segment approach: each URI signed on its own with a canned policy, per request.
    const text = readFileSync(join(root, PLAYLIST), 'utf8')
    const base = DISTRIBUTION + PLAYLIST.slice(0, PLAYLIST.lastIndexOf('/') + 1)
    app.get(PLAYLIST, (request, reply) => {
      const dateLessThan = new Date(Date.now() + 3600_000).toISOString()
      const out = text.split('\n').map((line) => (line === '' || line.startsWith('#')
        ? line
        : getSignedUrl({ url: base + line, keyPairId: 'KBENCH', privateKey: pem, dateLessThan }))).join('\n')
      reply.header('content-type', 'application/vnd.apple.mpegurl').header('cache-control', 'private, no-store').send(out)
    })
  } else {
    await app.register(fastifyCloudfrontCookies, {
      keyPairId: 'KBENCH',
      privateKey: pem,
      distribution: DISTRIBUTION,
      rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
      getUser: (request) => request.headers['x-user'],
      authorize: 'any-signed-in-user',
      // mirror-vars: the query once, in an EXT-X-DEFINE (variables mode)
      playlists: { prefix: '/hls', origin: { root }, variables: scenario.startsWith('mirror-vars') }
    })
  }
  await listenAndReport(app)
}

const BASE = process.env.BENCH_BASE

function harness (env) {
  return pairHarness({
    script: fileURLToPath(import.meta.url),
    base: BASE && `${BASE}/bench/playlists.mjs`,
    env,
    connections: CONNECTIONS,
    warmup: WARMUP,
    duration: DURATION,
    target: (name) => ({
      path: name.startsWith('mirror') ? '/hls' + PLAYLIST : PLAYLIST,
      headers: { 'x-user': 'alice', ...(name.endsWith('-compressed') ? { 'accept-encoding': ACCEPT } : {}) }
    })
  })
}

async function perSegmentRate ({ start, stop }, seconds) {
  const s = await start('per-segment', '0,1')
  await fetchOnce(s.url, {}) // warm-up
  const end = Date.now() + seconds * 1000
  let n = 0
  // Two at a time, one per core: the signing is synchronous, so more would only queue.
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

// This build's mirror rows against the same rows of another build, served at the same time.
async function againstBase ({ pair }) {
  const rows = ['mirror', 'mirror-compressed', 'mirror-vars', 'mirror-vars-compressed']
  const results = new Map(rows.map((row) => [row, []]))
  pin(process.pid, '1')
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    for (const row of rows) {
      const [base, self] = await pair(`${row}@base`, row)
      results.get(row).push({ ratio: self.rps / base.rps, base: base.rps, self: self.rps, cpu: base.cpuPerRequest / self.cpuPerRequest })
    }
  }
  pin(process.pid, '0,1')
  console.log('\nPlaylist mirror, this build against %s: a %d-segment VOD media playlist, RSA-2048, %d connections per server', BASE, SEGMENTS, CONNECTIONS)
  console.log('Pairs served at the same time on one core, %d rounds of %d s, fresh processes each round; medians\n', PAIR_ROUNDS, DURATION)
  console.log('| row | base req/s | this req/s | median ratio (this / base) | range | rounds | CPU-per-request ratio (base / this) |')
  console.log('|---|---:|---:|---:|---|---|---:|')
  for (const [row, list] of results) {
    const ratios = list.map((x) => x.ratio)
    console.log(`| ${row} | ${Math.round(median(list.map((x) => x.base)))} | ${Math.round(median(list.map((x) => x.self)))} | ${median(ratios).toFixed(3)} | ${range(ratios)} | ${ratios.map((x) => x.toFixed(2)).join(' ')} | ${median(list.map((x) => x.cpu)).toFixed(3)} |`)
  }
  console.log('(both ratios below 1: this build is the slower; the CPU ratio is the steadier on a busy machine)')
  if (!canPin) console.log('(taskset not available: pairs ran unpinned)')
}

async function main () {
  const root = mkdtempSync(join(tmpdir(), 'cf-bench-playlists-'))
  try {
    const text = playlistText()
    mkdirSync(join(root, PLAYLIST, '..'), { recursive: true })
    writeFileSync(join(root, PLAYLIST), text)
    writeFileSync(join(root, PLAYLIST + '.br'), brotliCompressSync(text))
    writeFileSync(join(root, PLAYLIST + '.gz'), gzipSync(text))
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const h = harness({ BENCH_ROOT: root, BENCH_PEM: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() })
    if (BASE) return await againstBase(h)
    const { start, stop, pair } = h

    // Bytes on the wire, from one server of each kind.
    const bytes = {}
    for (const name of ['static', 'mirror', 'mirror-vars']) {
      const s = await start(name, '0,1')
      for (const [label, headers] of [['identity', {}], ['compressed', { 'accept-encoding': ACCEPT }]]) {
        const r = await fetchOnce(s.url, { 'x-user': 'alice', ...headers })
        if (r.status !== 200) throw new Error(`${name} ${label}: ${r.status} ${r.body.toString().slice(0, 200)}`)
        bytes[`${name}-${label}`] = { length: r.body.length, encoding: r.headers['content-encoding'] ?? 'identity', body: r.body }
      }
      if (name === 'mirror') {
        const again = await fetchOnce(s.url, { 'x-user': 'alice' })
        const stats = (await stop(s)).stats
        bytes.signatures = stats.signatures
        bytes.sampleLine = again.body.toString().split('\n').find((l) => l.startsWith('https://'))
      } else await stop(s)
    }

    pin(process.pid, '1')
    const pairs = [['static', 'mirror'], ['static-compressed', 'mirror-compressed'], ['static', 'mirror-vars'], ['static-compressed', 'mirror-vars-compressed']]
    const results = new Map(pairs.map(([a, b]) => [b, []]))
    for (let round = 0; round < PAIR_ROUNDS; round++) {
      for (const [a, b] of pairs) {
        const [base, row] = await pair(a, b)
        results.get(b).push({ ratio: row.rps / base.rps, base: base.rps, row: row.rps, cpu: base.cpuPerRequest / row.cpuPerRequest, stats: row.stats })
      }
    }
    pin(process.pid, '0,1')
    const perSegment = await perSegmentRate(h, Math.max(4, DURATION * 2))

    console.log('\nPlaylist mirror: a %d-segment VOD media playlist (%d bytes), RSA-2048, %d connections per server', SEGMENTS, text.length, CONNECTIONS)
    console.log('Pairs served at the same time on one core, %d rounds of %d s, fresh processes each round; medians and ranges\n', PAIR_ROUNDS, DURATION)
    console.log('| pair | static req/s | mirror req/s | mirror / static | rounds | CPU-per-request ratio |')
    console.log('|---|---:|---:|---:|---|---:|')
    for (const [a, b] of pairs) {
      const list = results.get(b)
      console.log(`| ${b} vs ${a} | ${Math.round(median(list.map((x) => x.base)))} | ${Math.round(median(list.map((x) => x.row)))} | ${median(list.map((x) => x.ratio)).toFixed(2)}x | ${range(list.map((x) => x.ratio))} | ${median(list.map((x) => x.cpu)).toFixed(2)} |`)
    }
    const mirrorRps = median(results.get('mirror').map((x) => x.row))
    console.log(`\nPer-segment signing (@aws-sdk/cloudfront-signer, one canned policy per URI, ${SEGMENTS} signatures a request): ${perSegment.toFixed(2)} req/s`)
    console.log(`mirror (cached grant) / per-segment signing: ${(mirrorRps / perSegment).toFixed(0)}x`)
    const unsigned = { gzip: gzipSync(text).length }
    console.log('\nBytes on the wire (body)\n')
    console.log('| response | static | mirror | mirror / static |\n|---|---:|---:|---:|')
    for (const mirror of ['mirror', 'mirror-vars']) {
      for (const label of ['identity', 'compressed']) {
        const s = bytes[`static-${label}`]
        const m = bytes[`${mirror}-${label}`]
        console.log(`| ${mirror} ${label} (static ${s.encoding}, mirror ${m.encoding}) | ${s.length} | ${m.length} | ${(m.length / s.length).toFixed(2)}x |`)
      }
    }
    // Both bodies through the mirror's own brotli settings (text mode; quality 5, or 10 for the compact
    // variables-mode bodies: src/core/playlists/compress.ts): the same encoder exactly.
    const br = (body, quality) => brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } }).length
    for (const [mirror, quality] of [['mirror', 5], ['mirror-vars', 10]]) {
      const m = br(bytes[`${mirror}-identity`].body, quality)
      const u = br(Buffer.from(text), quality)
      console.log(`| ${mirror} br q${quality} (both) | ${u} | ${m} | ${(m / u).toFixed(2)}x |`)
    }
    // The other encoder too: what a client that accepts gzip only gets.
    for (const mirror of ['mirror', 'mirror-vars']) {
      const mirrorGzip = gzipSync(bytes[`${mirror}-identity`].body).length
      console.log(`| ${mirror} gzip (both) | ${unsigned.gzip} | ${mirrorGzip} | ${(mirrorGzip / unsigned.gzip).toFixed(2)}x |`)
    }
    console.log(`\nsignatures made by the mirror for all of the above: ${bytes.signatures}; a line: ${bytes.sampleLine.slice(0, 110)}…`)
    const compressedRatio = bytes['mirror-compressed'].length / bytes['static-compressed'].length
    const targets = [
      ['cached mirror >= 0.5x static (pairs, identity)', median(results.get('mirror').map((x) => x.ratio)), 0.5, true],
      ['cached mirror >= 0.5x static (pairs, compressed)', median(results.get('mirror-compressed').map((x) => x.ratio)), 0.5, true],
      ['cached mirror >= 100x per-segment signing', mirrorRps / perSegment, 100, true],
      ['compressed bytes <= 1.5x the unsigned playlist compressed (same encoder)', compressedRatio, 1.5, false],
      ['variables mode: compressed bytes <= 1.5x the unsigned playlist compressed (same encoder)', bytes['mirror-vars-compressed'].length / bytes['static-compressed'].length, 1.5, false]
    ]
    console.log('\n| target | measured | met |\n|---|---:|---|')
    for (const [name, value, bound, atLeast] of targets) console.log(`| ${name} | ${value.toFixed(2)} | ${(atLeast ? value >= bound : value <= bound) ? 'yes' : 'NO'} |`)
    if (!canPin) console.log('(taskset not available: pairs ran unpinned)')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3])
else await main()
