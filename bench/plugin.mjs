// Requests per second of the Fastify plugin against baselines measured in the same run.
// Each scenario's server runs in its own child process; autocannon drives it over loopback.
//   npm run bench:plugin   (BENCH_DURATION=seconds per row, default 5)
import { fork } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { getSignedCookies } from '@aws-sdk/cloudfront-signer'
import fastifyCloudfrontCookies, { GrantEngine } from 'fastify-cloudfront-cookies'

const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = 16
const DISTRIBUTION = 'https://media.example.com'
const RULES = [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }]

function keys (type) {
  const { privateKey } = type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 })
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

async function serve (scenario) {
  const app = Fastify({ logger: false })
  const pem = keys(scenario.endsWith('-ec') ? 'ec' : 'rsa')
  const pluginOptions = {
    keyPairId: 'KBENCH',
    privateKey: pem,
    distribution: DISTRIBUTION,
    rules: RULES,
    getUser: (request) => request.headers['x-user'],
    cache: { max: 1_000_000, maxBytes: 2 ** 31 }
  }
  if (scenario.startsWith('plugin')) await app.register(fastifyCloudfrontCookies, pluginOptions)
  if (scenario === 'naive') {
    // The hand-written way: the SDK with the PEM string, signing on every request.
    app.addHook('onSend', async (request, reply) => {
      const cookies = getSignedCookies({
        url: `${DISTRIBUTION}/courses/${request.params.courseId}/*`,
        keyPairId: 'KBENCH',
        privateKey: pem,
        policy: JSON.stringify({ Statement: [{ Resource: `${DISTRIBUTION}/courses/${request.params.courseId}/*`, Condition: { DateLessThan: { 'AWS:EpochTime': Math.floor(Date.now() / 1000) + 900 } } }] })
      })
      reply.header('set-cookie', Object.entries(cookies).map(([k, v]) => `${k}=${v}; Path=/courses/${request.params.courseId}/; Secure; HttpOnly; SameSite=Lax`))
      reply.header('cache-control', 'private, no-store')
    })
  }
  // The set the plugin gives alice, prepared once: the static route sends it as its own headers,
  // and clients that already hold a set send it back as their Cookie header.
  const probe = Fastify()
  await probe.register(fastifyCloudfrontCookies, pluginOptions)
  probe.get('/courses/:courseId/player', async () => 'ok')
  const sample = await probe.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
  await probe.close()
  const staticHeaders = scenario !== 'static'
    ? null
    : { 'set-cookie': sample.headers['set-cookie'], 'cache-control': sample.headers['cache-control'], 'cloudfront-grant-expires': sample.headers['cloudfront-grant-expires'] }
  let cookie = sample.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ')
  app.get('/courses/:courseId/player', (request, reply) => {
    if (staticHeaders !== null) reply.headers(staticHeaders)
    reply.send('ok')
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const delay = monitorEventLoopDelay({ resolution: 10 })
  let cpu = null
  process.on('message', (msg) => {
    if (msg === 'measure') { delay.reset(); delay.enable(); cpu = process.cpuUsage() }
    if (msg === 'stop') {
      delay.disable()
      const used = process.cpuUsage(cpu)
      process.send({ p99: delay.percentile(99) / 1e6, cpuMicros: used.user + used.system, stats: app.cloudfront?.stats() ?? null })
      app.close().then(() => process.exit(0))
    }
  })
  if (scenario.startsWith('plugin')) {
    // This server's own set for alice, as her browser would send it back.
    const res = await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
    cookie = res.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ')
  }
  process.send({ port: app.server.address().port, cookie })
}

function run (url, { headers = {}, setupRequest, duration = DURATION } = {}) {
  return new Promise((resolve, reject) => {
    autocannon({
      url,
      connections: CONNECTIONS,
      duration,
      headers,
      ...(setupRequest ? { requests: [{ setupRequest }] } : {})
    }, (err, result) => (err ? reject(err) : resolve(result)))
  })
}

async function scenario (name, load) {
  const child = fork(fileURLToPath(import.meta.url), ['serve', name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { port, cookie } = await new Promise((resolve) => child.once('message', resolve))
  const url = `http://127.0.0.1:${port}/courses/42/player`
  await run(url, { ...load(cookie), duration: 1 }) // warm-up: JIT, first signatures
  child.send('measure')
  const result = await run(url, load(cookie))
  const done = new Promise((resolve) => child.once('message', resolve))
  child.send('stop')
  const { p99, cpuMicros, stats } = await done
  await new Promise((resolve) => child.once('exit', resolve))
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  // Server CPU per request (all threads, signing included) is steadier than req/s on a busy machine.
  return { name, rps: result.requests.average, cpuPerRequest: cpuMicros / result.requests.total, p99, stats }
}

let user = 0
const newUser = (req) => ({ ...req, headers: { ...req.headers, 'x-user': `user-${process.pid}-${user++}` } })
// A new user on a new course: no two requests share a policy, so every request signs.
const newUserNewCourse = (req) => ({ ...req, path: `/courses/c${user}/player`, headers: { ...req.headers, 'x-user': `user-${process.pid}-${user++}` } })

async function memoryPerSet (count) {
  // Sets of realistic size (a 256-byte RSA-2048 signature) without spending minutes on RSA.
  const engine = new GrantEngine({
    keyPairId: 'KBENCH',
    sign: () => randomBytes(256),
    distribution: DISTRIBUTION,
    rules: RULES,
    getUser: (r) => r.user,
    cache: { max: count + 1, maxBytes: 2 ** 31 }
  })
  global.gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < count; i++) {
    // One course per user: no two sets share a signature, the worst case for memory.
    const pending = engine.match(`/courses/${i}/player`)
    await engine.issue({ user: `user-${i}` }, pending, { cookieHeader: undefined, ip: undefined })
  }
  global.gc()
  const after = process.memoryUsage().heapUsed
  if (engine.stats().size !== count) throw new Error('cache did not keep every set')
  return (after - before) / count
}

async function main () {
  // Rounds interleave the scenarios, and each row is the median round: background load on a
  // small machine then weighs on every row alike instead of on whichever ran at a bad moment.
  const specs = [
    // The bare route gets the same request as the fresh client (a Cookie header with a full set).
    ['bare', (cookie) => ({ headers: { 'x-user': 'alice', cookie } })],
    ['static', () => ({ headers: { 'x-user': 'alice' } })],
    ['plugin-cached', () => ({ headers: { 'x-user': 'alice' } })],
    ['plugin-fresh-client', (cookie) => ({ headers: { 'x-user': 'alice', cookie } })],
    ['plugin-all-miss', () => ({ setupRequest: newUser })],
    ['plugin-all-miss-distinct', () => ({ setupRequest: newUserNewCourse })],
    ['plugin-all-miss-distinct-ec', () => ({ setupRequest: newUserNewCourse })],
    ['naive', () => ({})]
  ]
  const runs = new Map(specs.map(([name]) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, load] of specs) runs.get(name).push(await scenario(name, load))
  }
  const rows = specs.map(([name]) => {
    const sorted = [...runs.get(name)].sort((a, b) => a.rps - b.rps)
    return sorted[Math.floor(sorted.length / 2)]
  })

  const by = Object.fromEntries(rows.map((r) => [r.name, r]))
  const ratio = (a, b) => (by[a].rps / by[b].rps)
  console.log('\nFastify plugin, requests/s over loopback (%d connections, %d s a row, median of %d interleaved rounds)\n', CONNECTIONS, DURATION, ROUNDS)
  console.log('| scenario | req/s | vs bare | vs naive | server CPU µs/req | event-loop p99 (ms) |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    console.log(`| ${r.name} | ${Math.round(r.rps)} | ${ratio(r.name, 'bare').toFixed(2)}x | ${ratio(r.name, 'naive').toFixed(1)}x | ${r.cpuPerRequest.toFixed(0)} | ${r.p99.toFixed(1)} |`)
  }
  const mem = await memoryPerSet(100_000)
  const targets = [
    ['cached / static headers >= 0.95', ratio('plugin-cached', 'static'), 0.95],
    ['fresh client / bare >= 0.9', ratio('plugin-fresh-client', 'bare'), 0.9],
    ['cached / naive >= 30', ratio('plugin-cached', 'naive'), 30],
    ['all-miss RSA (new user, same course) / naive >= 4', ratio('plugin-all-miss', 'naive'), 4],
    ['all-miss RSA (new user, new course: every request signs) / naive', ratio('plugin-all-miss-distinct', 'naive'), 4]
  ]
  console.log('\n| target | measured | met |\n|---|---:|---|')
  for (const [name, value, min] of targets) console.log(`| ${name} | ${value.toFixed(2)} | ${value >= min ? 'yes' : 'NO'} |`)
  console.log(`| memory per cached set (100,000 sets) <= 1536 B | ${Math.round(mem)} B | ${mem <= 1536 ? 'yes' : 'NO'} |`)
  for (const name of ['plugin-all-miss', 'plugin-all-miss-distinct', 'plugin-all-miss-distinct-ec']) {
    const r = by[name]
    console.log(`${name}: ${r.stats.misses} misses, ${r.stats.signatures} signatures, ${r.stats.shared} shared; event-loop delay p99 ${r.p99.toFixed(1)} ms`)
  }
  console.log(`naive: event-loop delay p99 ${by.naive.p99.toFixed(1)} ms`)
}

if (process.argv[2] === 'serve') await serve(process.argv[3])
else await main()
