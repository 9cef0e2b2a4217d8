// The Express middleware against baselines, measured the way bench/plugin.mjs measures its pairs:
// the middleware and its baseline served at the same time by two fresh processes that share CPU 0,
// each under its own autocannon on CPU 1 (taskset). Both see the same machine at the same moment,
// so their req/s ratio is the ratio of their costs; the median of the rounds' ratios is reported.
//   cached / static: a grant served from the middleware's cache against a bare Express route that
//                    sends the very same headers (Set-Cookie, Cache-Control, expiry) statically;
//   unmatched / bare: the middleware on a path no rule matches against the bare route;
//   noop / bare:      an empty middleware against the bare route: what any Express middleware layer costs;
//   floor / static:   for scale, the least any middleware doing this job costs: the route's cached set looked up
//                     and its three headers set before the handler, with none of the rules (no status decided at
//                     writeHead, no merge with the app's Set-Cookie, no private Cache-Control kept): a lower
//                     bound for the cached row, not something to ship.
// Run with `npm run bench:express` (builds first). BENCH_DURATION=seconds per round (default 2),
// BENCH_PAIR_ROUNDS (default 11), BENCH_CPU_PROF=dir writes a V8 CPU profile of every server (dir/<side>/).
import { execFileSync, fork } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS ?? 11)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2)
const CONNECTIONS = 10
const USER = { 'x-user': 'alice' }
const DISTRIBUTION = 'https://media.example.com'
const RULES = [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }]

async function serve (scenario) {
  const { default: express } = await import('express')
  const { expressCloudfrontCookies } = await import('../dist/esm/express/index.js')
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const app = express()
  let cloudfront = null
  if (scenario === 'noop') app.use((req, res, next) => next())
  if (scenario === 'cached' || scenario === 'unmatched') {
    cloudfront = expressCloudfrontCookies({ keyPairId: 'KBENCH', privateKey, distribution: DISTRIBUTION, rules: RULES, getUser: (req) => req.headers['x-user'], authorize: 'any-signed-in-user' })
    app.use(cloudfront)
  }
  const sample = JSON.parse(process.env.BENCH_SAMPLE)
  if (scenario === 'floor') app.use(await floorMiddleware(privateKey))
  const ok = (req, res) => { res.send('ok') }
  app.get('/courses/:courseId/player', scenario === 'static'
    ? (req, res) => {
        res.setHeader('set-cookie', sample['set-cookie'])
        res.setHeader('cache-control', sample['cache-control'])
        res.setHeader('cloudfront-grant-expires', sample['cloudfront-grant-expires'])
        res.send('ok')
      }
    : ok)
  app.get('/public/player', ok)
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(s)))
  })
  const port = server.address().port
  const path = scenario === 'unmatched' || scenario === 'bare' || scenario === 'noop' ? '/public/player' : '/courses/42/player'
  if (scenario === 'cached' || scenario === 'floor') {
    // The first request signs; every later one is served from the cache.
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: USER })
    if (res.headers.getSetCookie().filter((c) => c.startsWith('CloudFront-')).length !== 3) throw new Error('expected a CloudFront cookie set')
  }
  let cpu = null
  process.on('message', (msg) => {
    if (msg === 'measure') cpu = process.cpuUsage()
    if (msg === 'stop') {
      const used = process.cpuUsage(cpu)
      process.send({ cpuMicros: used.user + used.system, stats: cloudfront?.stats() ?? null })
    }
    if (msg === 'exit') {
      server.closeAllConnections()
      server.close(() => process.exit(0))
    }
  })
  process.send({ port, path })
}

// The floor row's middleware (see the header): the core's lookup and three setHeader() calls, nothing else.
async function floorMiddleware (privateKey) {
  const { createGrantServices } = await import('../dist/esm/core/grants/compose.js')
  const { engine } = createGrantServices({ keyPairId: 'KBENCH', privateKey, distribution: DISTRIBUTION, rules: RULES, getUser: (req) => req.headers['x-user'], authorize: 'any-signed-in-user' })
  const client = { cookieHeader: undefined, ip: undefined }
  const carry = (res, set) => {
    res.setHeader('set-cookie', set.setCookie.slice())
    res.setHeader('cache-control', 'private, no-store')
    res.setHeader('cloudfront-grant-expires', String(set.expires))
  }
  return (req, res, next) => {
    const route = engine.pathGrant(req.originalUrl)
    if (route === null) return next()
    const result = engine.prepare(req, route, client)
    // The first request signs; every later one is served from the cache.
    if (typeof result === 'function') return result().then((set) => { carry(res, set); next() }, next)
    if (typeof result === 'object' && result !== null && 'setCookie' in result) carry(res, result)
    next()
  }
}

function run (url, duration) {
  return import('autocannon').then(({ default: autocannon }) => new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration, headers: USER }, (err, result) => (err ? reject(err) : resolve(result)))
  }))
}

const canPin = process.platform === 'linux' && (() => {
  try { execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }); return true } catch { return false }
})()
function pin (pid, cpus) {
  if (canPin) execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' })
}

// Alice's set as the middleware makes it, for the static route.
async function sample () {
  const { createGrantServices } = await import('../dist/esm/core/grants/compose.js')
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const { engine } = createGrantServices({
    keyPairId: 'KBENCH', privateKey, distribution: DISTRIBUTION, rules: RULES, getUser: () => 'alice', authorize: 'any-signed-in-user'
  })
  const issued = await engine.issue({}, engine.pathGrant('/courses/42/player'), { cookieHeader: undefined, ip: undefined })
  return JSON.stringify({ 'set-cookie': issued.setCookie, 'cache-control': 'private, no-store', 'cloudfront-grant-expires': String(issued.expires) })
}

async function start (name, sampleText) {
  const prof = process.env.BENCH_CPU_PROF
  const execArgv = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}/${name}`] : []
  const child = fork(fileURLToPath(import.meta.url), ['serve', name], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_SAMPLE: sampleText } })
  const { port, path } = await new Promise((resolve) => child.once('message', resolve))
  pin(child.pid, '0')
  return { name, child, url: `http://127.0.0.1:${port}${path}` }
}

async function measure (servers) {
  await Promise.all(servers.map((s) => run(s.url, WARMUP)))
  for (const s of servers) s.child.send('measure')
  const results = await Promise.all(servers.map((s) => run(s.url, DURATION)))
  return Promise.all(servers.map(async (s, i) => {
    const result = results[i]
    const done = new Promise((resolve) => s.child.once('message', resolve))
    s.child.send('stop')
    const { cpuMicros, stats } = await done
    s.child.send('exit')
    await new Promise((resolve) => s.child.once('exit', resolve))
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${s.name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
    return { rps: result.requests.average, cpuPerRequest: cpuMicros / result.requests.total, stats }
  }))
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function main () {
  const sampleText = await sample()
  const pairs = [['static', 'cached'], ['bare', 'unmatched'], ['bare', 'noop'], ['static', 'floor']]
  const runs = new Map(pairs.map((pair) => [pair.join('/'), []]))
  let hits = 0
  let signatures = 0
  pin(process.pid, '1')
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    for (const [base, row] of pairs) {
      const [b, r] = await measure([await start(base, sampleText), await start(row, sampleText)])
      runs.get(`${base}/${row}`).push({ ratio: r.rps / b.rps, base: b, row: r })
      if (row === 'cached') {
        hits += r.stats.hits
        signatures += r.stats.signatures
      }
    }
  }
  console.log(`\nExpress 5 with expressCloudfrontCookies: pairs served at the same time on one core, ${CONNECTIONS} connections each, ${PAIR_ROUNDS} rounds of ${DURATION} s, fresh processes every round, Node ${process.version}\n`)
  console.log('| pair | median ratio (req/s) | rounds | baseline req/s | row req/s | server CPU µs/req (baseline / row) |')
  console.log('|---|---:|---|---:|---:|---:|')
  const label = { 'static/cached': 'grant from the cache / route sending the same headers statically', 'bare/unmatched': 'middleware on a path no rule matches / bare route', 'bare/noop': 'for scale: an empty middleware (next()) / bare route', 'static/floor': 'for scale: the floor (cached set, three setHeader(), no rules) / static headers' }
  for (const [key, list] of runs) {
    console.log(`| ${label[key]} | ${median(list.map((x) => x.ratio)).toFixed(3)} | ${list.map((x) => x.ratio.toFixed(2)).join(' ')} | ${Math.round(median(list.map((x) => x.base.rps)))} | ${Math.round(median(list.map((x) => x.row.rps)))} | ${median(list.map((x) => x.base.cpuPerRequest)).toFixed(0)} / ${median(list.map((x) => x.row.cpuPerRequest)).toFixed(0)} |`)
  }
  const ratios = (key) => runs.get(key).map((x) => x.ratio)
  const range = (list) => `${Math.min(...list).toFixed(2)}-${Math.max(...list).toFixed(2)}`
  const cached = median(ratios('static/cached'))
  const unmatched = median(ratios('bare/unmatched'))
  console.log('\n| target | median | range | met |\n|---|---:|---|---|')
  console.log(`| cached >= 0.92x static headers (pairs) | ${cached.toFixed(2)} | ${range(ratios('static/cached'))} | ${cached >= 0.92 ? 'yes' : 'NO'} |`)
  console.log(`| unmatched >= 0.96x bare (pairs) | ${unmatched.toFixed(2)} | ${range(ratios('bare/unmatched'))} | ${unmatched >= 0.96 ? 'yes' : 'NO'} |`)
  const floor = median(ratios('static/floor'))
  console.log(`| for scale: the floor of the cached row (no rules) / static headers | ${floor.toFixed(2)} | ${range(ratios('static/floor'))} | - |`)
  console.log(`\nCached rows: ${signatures} signatures, ${hits} grants served from the cache.`)
  if (!canPin) console.log('(taskset not available: pairs ran unpinned)')
}

if (process.argv[2] === 'serve') await serve(process.argv[3])
else await main()
