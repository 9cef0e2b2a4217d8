// Requests per second of the Fastify plugin against baselines measured in the same run.
// Every server runs in its own child process, started anew for each round (a process's JIT may
// settle a few per cent faster or slower than the next one's); autocannon drives it over loopback.
//
// 1. Rows: each scenario alone on the machine, rounds interleaved, the median round reported.
//    Ratios against naive signing come from here.
// 2. Pairs: the plugin row and its baseline served at the same time by two processes that share
//    CPU 0, each under its own autocannon on CPU 1. Both see the same machine at the same moment,
//    so their req/s ratio is the ratio of their costs. The two overhead targets (cached vs static
//    headers, fresh client vs bare) are read here: the median of the rounds' ratios.
// 3. The machine's RSA signing capacity on the thread pool, without HTTP: the ceiling of a row
//    where every request signs.
//   npm run bench:plugin   (BENCH_DURATION=seconds per row, default 2; BENCH_ROUNDS, default 5;
//                           BENCH_PAIR_ROUNDS, default 7; BENCH_ONLY=rows,to,run)
// BENCH_BASE=<another checkout, built> measures only this build against that one, as pairs: the cached
// and fresh-client rows of both served at the same time (the other build's own bench/plugin.mjs serves its side).
import { execFileSync, fork } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { getSignedCookies } from '@aws-sdk/cloudfront-signer'
import fastifyCloudfrontCookies, { createSigner } from 'fastify-cloudfront-cookies'
import { createGrantServices } from '../dist/esm/core/grants/compose.js'

const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS ?? 7)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3)
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
    // Every signed-in user may: what is measured is the plugin, not an app's authorisation.
    authorize: 'any-signed-in-user',
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
  // The set the plugin gives alice, made once by the parent (sample()): the static route sends it
  // as its own headers, and the bare route receives it as a Cookie header. No server process runs
  // a second Fastify instance or inject(): each one's JIT sees its own traffic only.
  const sample = JSON.parse(process.env.BENCH_SAMPLE)
  const staticHeaders = scenario === 'static' ? sample.headers : null
  let cookie = sample.cookie
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
    }
    if (msg === 'exit') app.close().then(() => process.exit(0))
  })
  if (scenario.startsWith('plugin')) {
    // This server's own set for alice, as her browser would send it back.
    const res = await fetch(`http://127.0.0.1:${app.server.address().port}/courses/42/player`, { headers: { 'x-user': 'alice' } })
    cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
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

// taskset is Linux's; elsewhere the rows run unpinned.
const canPin = process.platform === 'linux' && (() => {
  try { execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }); return true } catch { return false }
})()
function pin (pid, cpus) {
  if (canPin) execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' })
}

// Alice's set as the plugin makes it, for the static and bare servers.
async function sample () {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const { engine } = createGrantServices({
    keyPairId: 'KBENCH', privateKey, distribution: DISTRIBUTION, rules: RULES, getUser: () => 'alice', authorize: 'any-signed-in-user'
  })
  const issued = await engine.issue({}, engine.pathGrant('/courses/42/player'), { cookieHeader: undefined, ip: undefined })
  return JSON.stringify({
    headers: { 'set-cookie': issued.setCookie, 'cache-control': 'private, no-store', 'cloudfront-grant-expires': String(issued.expires) },
    cookie: issued.setCookie.map((c) => c.split(';')[0]).join('; ')
  })
}
const SAMPLE = process.argv[2] === 'serve' ? null : await sample()

const BASE = process.env.BENCH_BASE

async function start (name, load, cpus) {
  const [scenario, other] = name.split('@')
  const script = other === 'base' ? `${BASE}/bench/plugin.mjs` : fileURLToPath(import.meta.url)
  const child = fork(script, ['serve', scenario], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_SAMPLE: SAMPLE } })
  const { port, cookie } = await new Promise((resolve) => child.once('message', resolve))
  pin(child.pid, cpus)
  return { name, child, load: load(cookie), url: `http://127.0.0.1:${port}/courses/42/player` }
}

async function measure (servers) {
  await Promise.all(servers.map((s) => run(s.url, { ...s.load, duration: WARMUP }))) // warm-up: JIT, first signatures
  for (const s of servers) s.child.send('measure')
  const results = await Promise.all(servers.map((s) => run(s.url, s.load)))
  return Promise.all(servers.map(async (s, i) => {
    const result = results[i]
    const done = new Promise((resolve) => s.child.once('message', resolve))
    s.child.send('stop')
    const { p99, cpuMicros, stats } = await done
    s.child.send('exit')
    await new Promise((resolve) => s.child.once('exit', resolve))
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${s.name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
    // Server CPU per request (all threads, signing included) is steadier than req/s on a busy machine.
    return { rps: result.requests.average, cpuPerRequest: cpuMicros / result.requests.total, p99, stats }
  }))
}

async function signingCapacity (seconds) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const signer = createSigner({ keyPairId: 'KBENCH', privateKey })
  const end = Date.now() + seconds * 1000
  let signed = 0
  let n = 0
  // Four in flight: the thread pool's size, on every core.
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (Date.now() < end) {
      await signer.signCookies(`${DISTRIBUTION}/courses/c${n++}/*`, { expiresIn: 900 })
      signed++
    }
  }))
  return signed / seconds
}

let user = 0
const newUser = (req) => ({ ...req, headers: { ...req.headers, 'x-user': `user-${process.pid}-${user++}` } })
// A new user on a new course: no two requests share a policy, so every request signs.
const newUserNewCourse = (req) => ({ ...req, path: `/courses/c${user}/player`, headers: { ...req.headers, 'x-user': `user-${process.pid}-${user++}` } })

async function memoryPerSet (count) {
  // Sets of realistic size (a 256-byte RSA-2048 signature) without spending minutes on RSA.
  const { engine } = createGrantServices({
    keyPairId: 'KBENCH',
    sign: () => randomBytes(256),
    distribution: DISTRIBUTION,
    rules: RULES,
    getUser: (r) => r.user,
    authorize: 'any-signed-in-user',
    cache: { max: count + 1, maxBytes: 2 ** 31 }
  })
  global.gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < count; i++) {
    // One course per user: no two sets share a signature, the worst case for memory.
    const pending = engine.pathGrant(`/courses/${i}/player`)
    await engine.issue({ user: `user-${i}` }, pending, { cookieHeader: undefined, ip: undefined })
  }
  global.gc()
  const after = process.memoryUsage().heapUsed
  if (engine.stats().size !== count) throw new Error('cache did not keep every set')
  return (after - before) / count
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function againstBase () {
  const load = { 'plugin-cached': () => ({ headers: { 'x-user': 'alice' } }), 'plugin-fresh-client': (cookie) => ({ headers: { 'x-user': 'alice', cookie } }) }
  pin(process.pid, '1')
  const pairs = new Map(Object.keys(load).map((name) => [name, []]))
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    for (const name of Object.keys(load)) {
      const [b, r] = await measure([await start(`${name}@base`, load[name], '0'), await start(name, load[name], '0')])
      pairs.get(name).push(r.rps / b.rps)
    }
  }
  console.log('\nThis build against %s, pairs served at the same time on one core (%d rounds of %d s)\n', BASE, PAIR_ROUNDS, DURATION)
  console.log('| row | median ratio (this / base) | range | rounds |\n|---|---:|---|---|')
  for (const [name, list] of pairs) {
    console.log(`| ${name} | ${median(list).toFixed(3)} | ${Math.min(...list).toFixed(2)}-${Math.max(...list).toFixed(2)} | ${list.map((x) => x.toFixed(2)).join(' ')} |`)
  }
}

async function main () {
  if (BASE) return againstBase()
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
  const load = Object.fromEntries(specs)
  // BENCH_ONLY=static,plugin-cached runs some rows only (targets whose rows did not run are skipped).
  const only = process.env.BENCH_ONLY?.split(',')
  const names = specs.map(([name]) => name).filter((name) => !only || only.includes(name))
  const runs = new Map(names.map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names) {
      const [r] = await measure([await start(name, load[name], '0,1')])
      runs.get(name).push(r)
    }
  }
  const pairs = [['static', 'plugin-cached'], ['bare', 'plugin-fresh-client']].filter((pair) => pair.every((n) => names.includes(n)))
  const pairRuns = new Map(pairs.map((pair) => [pair.join('/'), []]))
  pin(process.pid, '1')
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    for (const [base, row] of pairs) {
      const servers = [await start(base, load[base], '0'), await start(row, load[row], '0')]
      const [b, r] = await measure(servers)
      pairRuns.get(`${base}/${row}`).push({ ratio: r.rps / b.rps, base: b.rps, row: r.rps, cpu: b.cpuPerRequest / r.cpuPerRequest })
    }
  }
  pin(process.pid, '0,1')
  const capacity = only && !only.includes('naive') ? NaN : await signingCapacity(3)

  const rows = names.map((name) => {
    const sorted = [...runs.get(name)].sort((a, b) => a.rps - b.rps)
    return { name, ...sorted[Math.floor(sorted.length / 2)], cpuPerRequest: median(runs.get(name).map((r) => r.cpuPerRequest)) }
  })
  const by = Object.fromEntries(rows.map((r) => [r.name, r]))
  const ratio = (a, b) => (by[a] && by[b] ? by[a].rps / by[b].rps : NaN)
  console.log('\nFastify plugin, requests/s over loopback (%d connections; each row alone, median of %d interleaved rounds of %d s)\n', CONNECTIONS, ROUNDS, DURATION)
  console.log('| scenario | req/s | vs bare | vs naive | server CPU µs/req | event-loop p99 (ms) |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    console.log(`| ${r.name} | ${Math.round(r.rps)} | ${ratio(r.name, 'bare').toFixed(2)}x | ${ratio(r.name, 'naive').toFixed(1)}x | ${r.cpuPerRequest.toFixed(1)} | ${r.p99.toFixed(1)} |`)
  }
  if (pairs.length > 0) {
    console.log('\nPairs served at the same time on one core (%d rounds of %d s, fresh processes each round)\n', PAIR_ROUNDS, DURATION)
    console.log('| pair | median ratio (req/s) | rounds | CPU-per-request ratio |\n|---|---:|---|---:|')
    for (const [key, list] of pairRuns) {
      console.log(`| ${key.replace('/', ' vs ')} → ${key.split('/')[1]} / ${key.split('/')[0]} | ${median(list.map((x) => x.ratio)).toFixed(3)} | ${list.map((x) => x.ratio.toFixed(2)).join(' ')} | ${median(list.map((x) => x.cpu)).toFixed(3)} |`)
    }
  }
  const pairRatio = (key) => (pairRuns.has(key) ? median(pairRuns.get(key).map((x) => x.ratio)) : NaN)
  const targets = [
    ['cached / static headers >= 0.95 (pairs)', pairRatio('static/plugin-cached'), 0.95],
    ['fresh client / bare >= 0.9 (pairs)', pairRatio('bare/plugin-fresh-client'), 0.9],
    ['cached / naive >= 30', ratio('plugin-cached', 'naive'), 30],
    ['all-miss RSA, every request a new user / naive >= 4', ratio('plugin-all-miss', 'naive'), 4]
  ]
  console.log('\n| target | measured | met |\n|---|---:|---|')
  for (const [name, value, min] of targets.filter(([, value]) => !Number.isNaN(value))) console.log(`| ${name} | ${value.toFixed(2)} | ${value >= min ? 'yes' : 'NO'} |`)
  if (!only) {
    const mem = await memoryPerSet(100_000)
    console.log(`| memory per cached set (100,000 sets) <= 1536 B | ${Math.round(mem)} B | ${mem <= 1536 ? 'yes' : 'NO'} |`)
  }
  if (by['plugin-all-miss-distinct'] && by.naive) {
    console.log(`\nEvery request signs (a new user on a new course, RSA): ${ratio('plugin-all-miss-distinct', 'naive').toFixed(2)}x naive.`)
    console.log(`For scale, the thread pool alone (no HTTP, no load generator) signed ${Math.round(capacity)} RSA sets/s at the end of this run, ${(capacity / by.naive.rps).toFixed(2)}x naive's rate: with every request signing, two cores bound the ratio.`)
  }
  for (const name of ['plugin-all-miss', 'plugin-all-miss-distinct', 'plugin-all-miss-distinct-ec']) {
    const r = by[name]
    if (r === undefined) continue
    console.log(`${name}: ${r.stats.misses} misses, ${r.stats.signatures} signatures, ${r.stats.shared} shared; event-loop delay p99 ${r.p99.toFixed(1)} ms`)
  }
  if (by.naive) console.log(`naive: event-loop delay p99 ${by.naive.p99.toFixed(1)} ms`)
  if (!canPin) console.log('(taskset not available: pairs ran unpinned)')
}

if (process.argv[2] === 'serve') await serve(process.argv[3])
else await main()
