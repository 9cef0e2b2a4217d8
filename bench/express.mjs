// Requests per second of a bare Express 5 route against the same route behind
// expressCloudfrontCookies serving one user's grant from its cache (same user, same prefix: one
// signature, then every response carries the prepared Set-Cookie strings), in one run.
// Two more rows make the ratio readable: the bare route sending the very same grant headers
// statically (what the bigger response costs by itself), and the middleware on a path no rule
// matches (its pass-through cost). Beside requests per second, the server process's CPU time per
// request, which a busy machine distorts less than throughput.
// Run with `npm run bench:express` (builds first). BENCH_DURATION=seconds per measurement (default 3).
//
// The servers run in a child process so the load generator does not share their event loop.
import { fork } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const USER = { 'x-user': 'alice' }
const GRANTED_PATH = '/courses/42/player'

if (process.argv[2] === 'serve') {
  await serve()
} else {
  await measure()
}

async function serve () {
  const { default: express } = await import('express')
  const { expressCloudfrontCookies } = await import('../dist/esm/express/index.js')
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })

  const ok = (req, res) => { res.send('ok') }
  const cloudfront = expressCloudfrontCookies({
    keyPairId: 'KBENCH',
    privateKey,
    distribution: 'https://media.example.com',
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
    getUser: (req) => req.headers['x-user']
  })
  const granted = express()
  granted.use(cloudfront)
  granted.get('/courses/:courseId/player', ok)
  granted.get('/public', ok)

  const listen = (app) => new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(server)))
  })
  const grantedServer = await listen(granted)

  // The headers the middleware adds, captured once, for the static row.
  const sample = await fetch(`http://127.0.0.1:${grantedServer.address().port}${GRANTED_PATH}`, { headers: USER })
  const setCookie = sample.headers.getSetCookie()
  if (setCookie.filter((c) => c.startsWith('CloudFront-')).length !== 3) {
    throw new Error(`expected a CloudFront cookie set on ${GRANTED_PATH}, got ${JSON.stringify(setCookie)}`)
  }
  const cacheControl = sample.headers.get('cache-control')
  const expires = sample.headers.get('cloudfront-grant-expires')

  const bare = express()
  bare.get('/courses/:courseId/player', ok)
  bare.get('/static/courses/:courseId/player', (req, res) => {
    res.setHeader('set-cookie', setCookie)
    res.setHeader('cache-control', cacheControl)
    res.setHeader('cloudfront-grant-expires', expires)
    res.send('ok')
  })
  const bareServer = await listen(bare)

  const stop = () => {
    for (const s of [bareServer, grantedServer]) {
      s.closeAllConnections()
      s.close()
    }
  }
  process.on('disconnect', stop)
  process.on('message', (msg) => {
    if (msg === 'stats') process.send({ stats: cloudfront.stats() })
    else if (msg === 'cpu') process.send({ cpu: process.cpuUsage() })
    else if (msg === 'stop') process.disconnect()
  })
  process.send({ bare: bareServer.address().port, granted: grantedServer.address().port })
}

async function measure () {
  const { default: autocannon } = await import('autocannon')
  const duration = Number(process.env.BENCH_DURATION ?? 3)
  const rounds = 3
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = () => new Promise((resolve, reject) => {
    const early = (code) => reject(new Error(`the bench servers exited early (code ${code})`))
    child.once('exit', early)
    child.once('message', (msg) => {
      child.off('exit', early)
      resolve(msg)
    })
  })
  const ports = await next()
  const cpu = async () => {
    child.send('cpu')
    const { cpu: { user, system } } = await next()
    return user + system
  }

  async function run (side, seconds) {
    const before = await cpu()
    const result = await autocannon({ url: `http://127.0.0.1:${side.port}${side.path}`, connections: 10, duration: seconds, headers: USER })
    const used = await cpu() - before
    if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
      throw new Error(`${side.path}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`)
    }
    return { rps: result.requests.average, cpu: used / result.requests.total }
  }

  const sides = [
    { label: 'bare Express route', port: ports.bare, path: GRANTED_PATH },
    { label: 'bare route sending the same grant headers statically', port: ports.bare, path: `/static${GRANTED_PATH}` },
    { label: 'middleware, grant from its cache', port: ports.granted, path: GRANTED_PATH },
    { label: 'middleware, path no rule matches', port: ports.granted, path: '/public' }
  ]
  try {
    // Warm-up: JIT on every side.
    for (const side of sides) await run(side, 1)
    // Alternating rounds, so drift on a shared machine hits every side alike.
    const results = sides.map(() => [])
    for (let i = 0; i < rounds; i++) {
      for (const [j, side] of sides.entries()) results[j].push(await run(side, duration))
    }
    child.send('stats')
    const { stats } = await next()

    const mean = (xs, k) => xs.reduce((a, b) => a + b[k], 0) / xs.length
    const rows = sides.map((side, j) => ({ label: side.label, rps: mean(results[j], 'rps'), cpu: mean(results[j], 'cpu') }))
    const [bare, statics, cached] = rows
    console.log(`\nExpress 5 with expressCloudfrontCookies, loopback, 10 connections, ${rounds} x ${duration}s alternating rounds per row, Node ${process.version}\n`)
    console.log('| request | req/s | vs bare | server CPU µs/req | vs bare |')
    console.log('|---|---:|---:|---:|---:|')
    for (const r of rows) {
      console.log(`| ${r.label} | ${Math.round(r.rps)} | ${(r.rps / bare.rps).toFixed(2)}x | ${r.cpu.toFixed(1)} | ${(r.cpu / bare.cpu).toFixed(2)}x |`)
    }
    console.log(`\nCached grant vs the same headers sent statically: ${(cached.rps / statics.rps).toFixed(2)}x req/s, ${(cached.cpu / statics.cpu).toFixed(2)}x CPU per request.`)
    console.log(`Signatures: ${stats.signatures}; grants served from the cache: ${stats.hits}`)
  } finally {
    child.send('stop')
  }
}
