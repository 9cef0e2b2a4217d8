// What hostile origin content costs the app: peak memory and the longest event-loop block while the
// playlist mirror answers compressed bombs, endless and dripping bodies, sources that would render
// huge, and the largest playlist it accepts. Each scenario runs in a fresh app process (peak RSS is
// per process), against an origin in a process of its own; 4 requests at once, twice.
//   npm run bench:hostile          (BENCH_DIST=path/to/another/dist measures another build the same way;
//                                   BENCH_ONLY=gzip.m3u8,br.m3u8 runs those scenarios alone)
import { fork } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { constants, createBrotliCompress, createGzip } from 'node:zlib'

const SELF = fileURLToPath(import.meta.url)
const GiB = 1024 * 1024 * 1024
const PARALLEL = 4
const ROUNDS = 2

function endless (total, byte) {
  const chunk = Buffer.alloc(64 * 1024, byte)
  let left = total
  return new Readable({
    read () {
      if (left <= 0) return this.push(null)
      left -= chunk.length
      this.push(chunk)
    }
  })
}

function segments (n, name = 'segment-') {
  let text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n'
  for (let i = 0; i < n; i++) text += `#EXTINF:2.000000,\n${name}${String(i).padStart(5, '0')}.ts\n`
  return text + '#EXT-X-ENDLIST\n'
}

const SOURCES = {
  'one-letter-1mib.m3u8': '#EXTM3U\n' + 'a\n'.repeat(512 * 1024),
  'one-letter-3mib.m3u8': '#EXTM3U\n' + 'a\n'.repeat(1536 * 1024),
  'tags-4mib.m3u8': '#EXTM3U\n' + '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n'.repeat(83_000),
  'segments-1000.m3u8': segments(1000),
  'segments-9990.m3u8': segments(9990)
}

const SCENARIOS = [
  ['baseline: 1,000 segments', 'segments-1000.m3u8'],
  ['gzip bomb (2 GiB decoded)', 'gzip.m3u8'],
  ['brotli bomb (2 GiB decoded)', 'br.m3u8'],
  ['chunked body (256 MiB)', 'chunked.m3u8'],
  ['slow drip (timeout 2 s)', 'drip.m3u8'],
  ['1 MiB of one-letter URIs', 'one-letter-1mib.m3u8'],
  ['3 MiB of one-letter URIs', 'one-letter-3mib.m3u8'],
  ['4 MiB of tags, no URI', 'tags-4mib.m3u8'],
  ['9,990 segments (largest accepted)', 'segments-9990.m3u8']
]

function origin () {
  const server = createServer((req, res) => {
    const name = req.url.split('/').pop()
    if (name === 'gzip.m3u8') {
      res.writeHead(200, { 'content-encoding': 'gzip' })
      pipeline(endless(2 * GiB, 35), createGzip({ level: 1 }), res).catch(() => {})
    } else if (name === 'br.m3u8') {
      res.writeHead(200, { 'content-encoding': 'br' })
      pipeline(endless(2 * GiB, 35), createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }), res).catch(() => {})
    } else if (name === 'chunked.m3u8') {
      res.writeHead(200)
      res.write('#EXTM3U\n')
      pipeline(endless(256 * 1024 * 1024, 35), res).catch(() => {})
    } else if (name === 'drip.m3u8') {
      res.writeHead(200)
      res.write('#EXTM3U\n')
      const timer = setInterval(() => res.write('#'), 100)
      res.on('close', () => clearInterval(timer))
    } else if (SOURCES[name] !== undefined) {
      res.writeHead(200)
      res.end(SOURCES[name])
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
}

async function app () {
  const dist = process.env.BENCH_DIST
  const { default: Fastify } = await import('fastify')
  const plugin = dist === undefined
    ? (await import('fastify-cloudfront-cookies')).default
    : (await import(pathToFileURL(`${dist}/esm/index.js`).href)).default
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const server = Fastify({ logger: false })
  await server.register(plugin, {
    keyPairId: 'K2JCJMDEHXQW5F',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    distribution: 'https://media.example.com',
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', authorize: () => true }],
    authorize: () => true,
    getUser: (request) => request.headers['x-user'],
    playlists: { prefix: '/hls', origin: { url: process.env.BENCH_ORIGIN }, timeout: 2000 }
  })
  await server.listen({ port: 0, host: '127.0.0.1' })
  const loop = monitorEventLoopDelay({ resolution: 5 })
  const base = process.resourceUsage().maxRSS
  process.on('message', (m) => {
    if (m === 'start') {
      loop.reset()
      loop.enable()
    } else if (m === 'stop') {
      loop.disable()
      process.send({ rss: (process.resourceUsage().maxRSS - base) / 1024, maxDelay: loop.max / 1e6 }, () => process.exit(0))
    }
  })
  process.send({ port: server.server.address().port })
}

function once (child) {
  return new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`exited ${code}`)))
  })
}

async function main () {
  const originChild = fork(SELF, ['origin'])
  const { port: originPort } = await once(originChild)
  console.log(`bench:hostile ${process.env.BENCH_DIST ?? 'this build'}; Node ${process.version}; ${PARALLEL} requests at once, ${ROUNDS} rounds, fresh app process per scenario`)
  console.log('| scenario | statuses | app peak RSS added | longest event-loop block | wall time |')
  console.log('|---|---|---|---|---|')
  const only = process.env.BENCH_ONLY?.split(',')
  for (const [label, name] of SCENARIOS.filter(([, name]) => only === undefined || only.includes(name))) {
    const child = fork(SELF, ['app'], { execArgv: process.env.BENCH_APP_FLAGS?.split(' ') ?? [], env: { ...process.env, BENCH_ORIGIN: `http://127.0.0.1:${originPort}` } })
    let result = null
    try {
      const { port } = await once(child)
      // Warm: the first signature and the code paths of a normal answer are not what is measured.
      await fetch(`http://127.0.0.1:${port}/hls/courses/41/segments-1000.m3u8`, { headers: { 'x-user': 'alice' } }).then((r) => r.arrayBuffer())
      child.send('start')
      const statuses = []
      const t0 = performance.now()
      for (let r = 0; r < ROUNDS; r++) {
        const answers = await Promise.all(Array.from({ length: PARALLEL }, () =>
          fetch(`http://127.0.0.1:${port}/hls/courses/42/${name}`, { headers: { 'x-user': 'alice', 'accept-encoding': 'identity' } })
            .then(async (res) => { await res.arrayBuffer(); return res.status }, () => 'reset')))
        statuses.push(...answers)
      }
      const wall = performance.now() - t0
      child.send('stop')
      result = await once(child)
      const counts = {}
      for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1
      console.log(`| ${label} | ${Object.entries(counts).map(([s, n]) => `${n}× ${s}`).join(', ')} | ${result.rss.toFixed(0)} MB | ${result.maxDelay.toFixed(0)} ms | ${(wall / 1000).toFixed(1)} s |`)
    } catch (err) {
      console.log(`| ${label} | app process died (${err.message}) | | | |`)
    } finally {
      child.kill()
    }
  }
  originChild.kill()
}

if (process.argv[2] === 'origin') origin()
else if (process.argv[2] === 'app') app()
else await main()
